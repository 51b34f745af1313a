# Runs inside the micropython Unix port: imports one test module, runs the named
# test functions (all test_* when none are named) and reports each as a JSON line
# framed by a marker, so the pytest side can show every test on its own.
import io
import json
import sys

import mpytest

MARK = "\x1e@@verdant-test "


def _report(name, outcome, detail=""):
    print(MARK + json.dumps({"name": name, "outcome": outcome, "detail": detail}))


def _traceback(exc):
    buf = io.StringIO()
    sys.print_exception(exc, buf)
    return buf.getvalue()


def run(module_name, names):
    try:
        module = __import__(module_name)
    except BaseException as exc:  # an import error fails every test of the module
        _report("*", "error", _traceback(exc))
        return
    if not names:
        names = sorted(n for n in dir(module) if n.startswith("test_"))
    for name in names:
        func = getattr(module, name, None)
        if func is None:
            _report(name, "error", "no function named " + name)
            continue
        try:
            func()
        except mpytest.Skip as exc:
            _report(name, "skipped", str(exc.args[0]) if exc.args else "")
        except BaseException as exc:
            _report(name, "failed", _traceback(exc))
        else:
            _report(name, "passed")


run(sys.argv[1], sys.argv[2:])
