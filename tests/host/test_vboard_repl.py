"""The REPL protocol alone (verdant_host.vboard_repl): bytes in, effects out, no pty and
no interpreter."""
from verdant_host.vboard_repl import RAW_PASTE_WINDOW, ReplProtocol


class Line(ReplProtocol):
    """Records what the protocol sends and asks to run; every request ends with `status`."""

    def __init__(self, status="ok"):
        super().__init__()
        self.out, self.requests, self.boots, self.status = b"", [], [], status
        self._enter_friendly()

    def _send(self, data):
        self.out += data

    def _request(self, kind, payload, after):
        self.requests.append((kind, payload))
        after(self.status)

    def _boot(self, hard, raw=False):
        self.boots.append((hard, raw))


def test_raw_repl_runs_code_on_ctrl_d_and_answers_ok():
    line = Line()
    line.feed(b"\x01")
    assert line.out.endswith(b"raw REPL; CTRL-B to exit\r\n>")
    line.out = b""
    line.feed(b"print(1)\x04")
    assert line.requests == [("r", b"print(1)")] and line.out == b"OK>"


def test_raw_paste_grants_the_window_again_after_each_window_of_bytes():
    line = Line()
    line.feed(b"\x01\x05A\x01")
    assert line.out.endswith(b"R\x01" + RAW_PASTE_WINDOW.to_bytes(2, "little"))
    line.out = b""
    code = b"x = 1\n" * 100  # 600 bytes: two windows' worth of acknowledgements
    line.feed(code)
    assert line.out == b"\x01" * (len(code) // RAW_PASTE_WINDOW)
    line.feed(b"\x04")
    assert line.requests == [("r", code)]


def test_friendly_blocks_continue_until_an_empty_line():
    line = Line()
    line.feed(b"for i in range(2):\r")
    assert line.out.endswith(b"... ") and not line.requests
    line.feed(b"    print(i)\r\r")
    assert line.requests == [("s", b"for i in range(2):\n    print(i)\n")]
    assert line.out.endswith(b">>> ")


def test_ctrl_d_at_an_empty_prompt_soft_resets_and_sys_exit_in_raw_reboots_raw():
    line = Line()
    line.feed(b"\x04")
    assert line.boots == [(False, False)]
    exiting = Line(status="exit")
    exiting.feed(b"\x01import sys; sys.exit()\x04")
    assert exiting.boots == [(False, True)]
