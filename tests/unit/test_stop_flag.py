"""StopFlag: a threading.Event whose listeners hear when it is set (the llama engine's C abort check)."""

import threading

from lsp_server.engines.base import StopFlag


def test_listeners_hear_the_set_once_added_and_not_after_removal():
    flag, heard = StopFlag(), []
    listener = heard.append
    flag.add_listener(listener)
    flag.set()
    assert flag.is_set() and heard == [flag]
    other = StopFlag()
    other.add_listener(listener)
    other.remove_listener(listener)
    other.remove_listener(listener)  # removing twice is harmless
    other.set()
    assert heard == [flag]


def test_a_listener_may_remove_itself_and_set_works_from_another_thread():
    flag, heard = StopFlag(), []

    def once(f: StopFlag) -> None:
        heard.append(f)
        f.remove_listener(once)  # called outside the flag's lock: no deadlock

    flag.add_listener(once)
    setter = threading.Thread(target=flag.set)
    setter.start()
    setter.join(timeout=5)
    assert not setter.is_alive() and heard == [flag]
    assert flag.wait(0)  # still an Event
