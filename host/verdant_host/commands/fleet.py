"""`verdant fleet-demo` (a fleet of virtual boards on a private broker) and
`verdant fleet-watch` (store a real fleet's lines from its broker). docs/mqtt.md."""
import sys

from verdant_host.errors import VerdantError


def _demo(args):
    from verdant_host.fleet_demo import run_fleet
    figures = run_fleet(args.boards, args.hours, args.speed, args.work_dir, args.db)
    return 1 if figures["lost"] else 0


def _watch(args):
    from verdant_host.fleet import FleetWatcher
    if not args.mqtt:
        raise VerdantError("fleet-watch: pass --mqtt mqtt://host:1883")
    with FleetWatcher(args.mqtt, args.db, prefix=args.prefix, show_readings=args.readings) as watcher:
        try:
            watcher.run(args.duration)
        except KeyboardInterrupt:
            pass
    print(watcher.monitor.summary(with_alerts=False), file=sys.stdout)
    return 0


def register(subparsers):
    p = subparsers.add_parser("fleet-demo", help="N virtual boards with different faults on a private Mosquitto, "
                              "one monitor, one SQLite; ends with 'fleet: N boards, M messages, K alerts, L lost'")
    p.add_argument("--boards", type=int, default=3)
    p.add_argument("--hours", type=float, default=30.0, help="simulated hours per board")
    p.add_argument("--speed", type=float, default=7200.0, help="simulated seconds per real second")
    p.add_argument("--work-dir", help="folder for boards, broker and database (default build/fleet)")
    p.add_argument("--db", help="SQLite file (default <work-dir>/fleet.sqlite)")
    p.set_defaults(handler=_demo)

    q = subparsers.add_parser("fleet-watch", help="store every board's lines from an MQTT broker in one SQLite file")
    q.add_argument("--mqtt", metavar="URL", help="mqtt://[user:password@]host[:port]")
    q.add_argument("--db", default="build/fleet.sqlite")
    q.add_argument("--prefix", default="verdant", help="topic prefix the boards use")
    q.add_argument("--duration", type=float, help="stop after this many seconds")
    q.add_argument("--readings", action="store_true", help="show reading lines too (alerts are always shown)")
    q.set_defaults(handler=_watch)
