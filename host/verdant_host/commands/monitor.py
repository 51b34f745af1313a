"""`verdant monitor` (live view of a board's serial line) and `verdant plot`."""
import os
import sys

from verdant_host.errors import VerdantError
from verdant_host.monitor import SEVERITIES, run_monitor


DEMO_DB = os.path.join("build", "demo", "monitor.sqlite")


def _monitor(args):
    if not args.port:
        raise VerdantError("monitor: no serial port; pass --port /dev/ttyUSB0 (or PORT=... with make)")
    code, monitor = run_monitor(args.port, args.db, args.exit_on, args.duration, args.baud, sys.stdout,
                                board=args.board, mqtt_url=args.mqtt)
    print(monitor.summary())
    if code:
        print("monitor: exiting on %s alert %s" % (monitor.triggered.get("severity"), monitor.triggered.get("type")),
              file=sys.stderr)
    return code


def _plot(args):
    from verdant_host.monitor_plot import plot
    if not os.path.exists(args.db) and os.path.exists(DEMO_DB):
        raise VerdantError("plot: no database at %s; `make demo` stored its run in %s: "
                           "verdant plot --db %s" % (args.db, DEMO_DB, DEMO_DB))
    panels = plot(args.db, args.out, args.quantity or None, args.board)
    print("plot: %d panel(s) written to %s" % (panels, args.out))
    return 0


def register(subparsers):
    p = subparsers.add_parser("monitor", help="live view of a board's alerts and readings, stored in SQLite")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port ($PORT)")
    p.add_argument("--db", default="build/monitor.sqlite", help="SQLite file to append to ('' for none)")
    p.add_argument("--exit-on", choices=SEVERITIES, help="exit with status 3 when an alert this severe or worse is raised")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--board", help="board id stored with every row and used in MQTT topics (default: the port's name)")
    p.add_argument("--mqtt", metavar="URL", help="also publish every line to this MQTT broker with Home Assistant "
                   "discovery, as Wi-Fi boards do (mqtt://[user:password@]host[:port]; docs/mqtt.md)")
    p.set_defaults(handler=_monitor)

    q = subparsers.add_parser("plot", help="draw readings and alerts stored by `verdant monitor` to a PNG")
    q.add_argument("--db", default="build/monitor.sqlite", help="monitor database")
    q.add_argument("--out", default="build/monitor.png", help="PNG to write")
    q.add_argument("--quantity", action="append", help="only this quantity (repeatable)")
    q.add_argument("--board", help="only this board (default: every board, one colour each)")
    q.set_defaults(handler=_plot)
