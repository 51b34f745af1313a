"""`verdant vboard`: run a virtual board on a pseudo-terminal until Ctrl-C
(a parser over verdant_host.vboard_session.serve)."""
from verdant_host.errors import VerdantError
from verdant_host.vboard_session import serve


def _run(args):
    if args.speed <= 0:
        raise VerdantError("vboard: --speed must be > 0, got %g" % args.speed)
    return serve(args.fs, args.speed, args.replay, args.days, args.fault or None, args.seed,
                 args.port_file, args.link, args.heap, args.micropython, board=args.board)


def register(subparsers):
    p = subparsers.add_parser("vboard", help="run a virtual board on a pseudo-terminal (use with mpremote, deploy, monitor)")
    p.add_argument("--fs", default="build/vboard/fs", help="the board's filesystem folder (default build/vboard/fs)")
    p.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per real second (default 3600)")
    p.add_argument("--replay", help="truth CSV (timestamp_s,<quantity>,...) instead of the greenhouse simulator")
    p.add_argument("--days", type=float, default=2.0, help="simulated days of greenhouse (default 2)")
    p.add_argument("--fault", default="heating_failure", help="event injected on the first night ('' for none)")
    p.add_argument("--seed", type=int, default=7, help="greenhouse simulator seed")
    p.add_argument("--port-file", help="write the serial device path to this file once ready")
    p.add_argument("--link", help="also make this symlink point at the serial device")
    p.add_argument("--board", default="sim", help="board config whose heap budget and interpreter it gets (default sim)")
    p.add_argument("--heap", type=int, help="interpreter heap bytes (default: the board config's heap_bytes)")
    p.add_argument("--micropython", help="micropython Unix port (default: $MICROPYTHON for sim, "
                                         "build/unix32/micropython32 for sim32 and the real boards when built)")
    p.set_defaults(handler=_run)
