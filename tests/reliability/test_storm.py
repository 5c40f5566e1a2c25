"""A typing storm against the real server and model: responsive, bounded, every request answered, in sync."""

from __future__ import annotations

import json

from .rpc import Peer
from .storm import storm


def test_typing_storm(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    peer = Peer(env={"TACIT_CONFIG": str(tmp_path), "TACIT_DATA": str(tmp_path)})
    peer.initialize(ws, {"context": {"index": False}})
    assert peer.wait_ready() == "ready"
    result = storm(peer, ws, seconds=20, docs=4, seed=1, pace_s=0)
    figures = result.figures()
    (tmp_path / "storm.json").write_text(json.dumps(figures))
    assert result.requests >= 2000, figures  # thousands of requests, not a trickle
    assert result.unanswered == 0, figures
    assert result.errors == 0, figures  # cancelled requests are answered with RequestCancelled, not counted
    assert result.documents_match, figures
    assert max(result.after_latency_ms) < 5000, figures  # a generous bound: the server is responsive again
    assert result.peak_rss_mb < 4096, figures
    assert peer.close() == 0
