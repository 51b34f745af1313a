"""The interpreter side of the virtual board; runs inside the MicroPython Unix port.

The host supervisor (verdant_host.vboard) speaks the REPL protocol on the serial
line and hands this process complete pieces of code to run. Requests arrive on
stdin as b"X<kind> <length>\\n" followed by <length> bytes:
  r  raw REPL code: run as a file, then print the two \\x04 markers a board prints
  s  one friendly-REPL statement (results of expressions are printed)
  p  friendly paste-mode block (file input)
  f  a file name to run if it exists (boot.py, main.py)
When a request finishes, one line goes to the control channel (fd $VBOARD_CONTROL_FD):
  b"D ok" | b"D exc" | b"D exit" (SystemExit: soft reset) | b"D reset" (machine.reset())
Program output goes to stdout unchanged, as a board's UART carries it.
"""
import sys
import os

_CONTROL = open(int(os.getenv("VBOARD_CONTROL_FD")), "w")
_globals = {"__name__": "__main__"}


class HardReset(BaseException):
    """Raised by the virtual machine.reset(); unwinds to this loop, like a real reset."""


def _report(status):
    _CONTROL.write("D %s\n" % status)  # unbuffered; flush() would fsync a pipe: EINVAL


def _read_exactly(stream, n):
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def _run(kind, payload):
    """Run one request; returns the status word for the control channel."""
    raw = kind == "r"
    try:
        if kind == "f":
            name = payload.decode()
            try:
                os.stat(name)
            except OSError:
                return "ok"
            with open(name) as f:
                source = f.read()
            code = compile(source, name, "exec")
        else:
            code = compile(payload.decode(), "<stdin>", "single" if kind == "s" else "exec")
        exec(code, _globals)
        if raw:
            sys.stdout.write("\x04\x04")
        return "ok"
    except SystemExit:
        if raw:
            sys.stdout.write("\x04\x04")
        return "exit"
    except HardReset:
        return "reset"
    except BaseException as exc:  # the REPL reports every error and carries on
        if raw:
            sys.stdout.write("\x04")
        sys.print_exception(exc, sys.stdout)
        if raw:
            sys.stdout.write("\x04")
        return "exc"


def serve():
    """Request loop; returns when the supervisor closes stdin.

    A Ctrl-C (SIGINT) can land anywhere, also just after the code it was meant for
    finished: outside _run() it is swallowed, and the report is always sent."""
    stdin = sys.stdin.buffer
    while True:
        try:
            header = stdin.readline()
            if not header:
                return
            if header[:1] != b"X":
                continue
            kind = chr(header[1])
            payload = _read_exactly(stdin, int(header[3:]))
        except KeyboardInterrupt:
            continue
        except EOFError:
            return
        status = "exc"
        try:
            status = _run(kind, payload)
        except KeyboardInterrupt:
            pass
        while True:
            try:
                _report(status)  # a duplicate after a badly timed Ctrl-C is ignored by the host
                break
            except KeyboardInterrupt:
                continue
        if status == "reset":
            return


def _install_board_modules():
    """Make `import machine` / `import os` give the virtual board's modules."""
    import builtins
    import vboard_machine
    import vboard_os
    sys.modules["machine"] = vboard_machine
    sys.modules["os"] = vboard_os
    builtins.open = vboard_os.open_in_root(builtins.open)
    vboard_machine.HardReset = HardReset
    vboard_machine.control = lambda line: _CONTROL.write(line + "\n")


# Boards search the filesystem root first, then /lib; nothing from the host tree.
sys.path[:] = ["", ".frozen", "lib"] + [p for p in sys.path if p.endswith("vboard_frozen")]
_install_board_modules()
serve()
