"""Hypothesis strategies for hostile LSP traffic: wrong types, bad positions, odd URIs, broken frames."""

from __future__ import annotations

import json

from hypothesis import strategies as st

OPEN_URI = "file:///fuzz/ws/a.py"
URIS = st.sampled_from([OPEN_URI, "file:///fuzz/ws/never-opened.py", "file:///etc/passwd",
                        "file:///fuzz/ws/../../etc/shadow", "file:///fuzz/ws/%ZZ%00.py", "not a uri", "",
                        "untitled:Untitled-1", "file:///fuzz/ws/caf%C3%A9.py"])
TEXTS = st.one_of(st.text(max_size=40), st.sampled_from(["😀😀", "\ud800", "a\udc00b", "\x00", "é\r\n", "\t" * 50]))
NUMBERS = st.one_of(st.integers(-3, 50), st.sampled_from([-(2**31), 2**31 - 1, 2**53, 2**64, 10**30]),
                    st.floats(allow_nan=False, allow_infinity=False))
ANY = st.recursive(st.none() | st.booleans() | NUMBERS | st.text(max_size=20),
                   lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                   max_leaves=10)


def maybe(strategy):
    """The right shape most of the time, anything at all otherwise."""
    return st.one_of(strategy, strategy, strategy, ANY)


POSITION = st.fixed_dictionaries({"line": maybe(NUMBERS), "character": maybe(NUMBERS)})
RANGE = st.fixed_dictionaries({"start": maybe(POSITION), "end": maybe(POSITION)})
DOC = st.fixed_dictionaries({"uri": maybe(URIS)})

PARAMS = {
    "textDocument/didOpen": st.fixed_dictionaries({"textDocument": st.fixed_dictionaries({
        "uri": maybe(URIS), "languageId": maybe(st.sampled_from(["python", "go", "", "klingon"])),
        "version": maybe(NUMBERS), "text": maybe(TEXTS)})}),
    "textDocument/didChange": st.fixed_dictionaries({
        "textDocument": st.fixed_dictionaries({"uri": maybe(URIS), "version": maybe(NUMBERS)}),
        "contentChanges": maybe(st.lists(st.one_of(
            st.fixed_dictionaries({"range": maybe(RANGE), "text": maybe(TEXTS)}),
            st.fixed_dictionaries({"text": maybe(TEXTS)})), max_size=3))}),
    "textDocument/didClose": st.fixed_dictionaries({"textDocument": maybe(DOC)}),
    "textDocument/inlineCompletion": st.fixed_dictionaries({
        "textDocument": maybe(DOC), "position": maybe(POSITION),
        "context": maybe(st.fixed_dictionaries({"triggerKind": maybe(st.sampled_from([1, 2, 0, 3]))}))}),
    "tacit/signal": st.fixed_dictionaries({"id": maybe(st.text(max_size=30)), "kind": maybe(st.sampled_from(
        ["shown", "accepted", "partiallyAccepted", "dismissed", "typedOver", "rejected", "x"])),
        "acceptedLength": maybe(NUMBERS)}),
    "tacit/getSignals": maybe(st.fixed_dictionaries({"id": maybe(st.text(max_size=10))})),
    "tacit/explain": maybe(st.fixed_dictionaries({"uri": maybe(URIS)})),
    "tacit/getStatus": maybe(st.none()),
    "workspace/executeCommand": st.fixed_dictionaries({
        "command": maybe(st.sampled_from(["tacit.accept", "rm -rf", ""])), "arguments": maybe(st.lists(ANY))}),
    "workspace/didChangeConfiguration": st.fixed_dictionaries({"settings": ANY}),
    "$/cancelRequest": st.fixed_dictionaries({"id": maybe(NUMBERS)}),
    "no/such/method": ANY,
}
NOTIFICATIONS = {"textDocument/didOpen", "textDocument/didChange", "textDocument/didClose", "tacit/signal",
                 "workspace/didChangeConfiguration", "$/cancelRequest"}


@st.composite
def message(draw) -> tuple[str, bytes, bool]:
    """(what it is, the frame body, whether it is a request that must be answered)."""
    method = draw(st.sampled_from(sorted(PARAMS)))
    params = draw(PARAMS[method])
    request = method not in NOTIFICATIONS or (draw(st.booleans()) and draw(st.booleans()))
    body = {"jsonrpc": "2.0", "method": method, "params": params}
    if request:
        body["id"] = "fuzz"  # replaced by the sender with a fresh id
    return method, json.dumps(body).encode(), request


BROKEN = st.sampled_from([
    b"{", b"", b"null", b"[]", b'{"jsonrpc": "2.0"}', b'{"jsonrpc": "2.0", "id": 1}', b"\xff\xfe\x00garbage",
    b'{"jsonrpc": "2.0", "method": 42}', b'{"jsonrpc": "1.0", "method": "tacit/getStatus", "id": "x"}',
    b'{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": "\xff"}', b"NaN", b'"just a string"',
    b'{"jsonrpc": "2.0", "method": "tacit/getStatus", "id": {"obj": 1}}',
])
