"""`verdant soak`: many simulated days on the virtual board, report to SOAK.md."""
from verdant_host.soak import DEFAULT_START_DOY, run_soak


def _run(args):
    text = run_soak(days=args.days, speed=args.speed, seed=args.seed, model=args.model, report_path=args.report,
                    start_doy=args.start_doy, board=args.board)
    print(text)
    return 0


def register(subparsers):
    p = subparsers.add_parser("soak", help="run the firmware for many simulated days on the virtual board")
    p.add_argument("--days", type=float, default=30.0, help="simulated days (default 30)")
    p.add_argument("--speed", type=float, default=14400.0, help="simulated seconds per real second (default 14400)")
    p.add_argument("--seed", type=int, default=11, help="greenhouse scenario seed")
    p.add_argument("--start-doy", type=float, default=DEFAULT_START_DOY,
                   help="day of year the run starts (default %g, late January); events are drawn for that season"
                   % DEFAULT_START_DOY)
    p.add_argument("--model", help="model file (default: the committed default model)")
    p.add_argument("--board", default="sim", help="board config (default sim; sim32 runs the 32-bit port in its "
                                                  "96 KB heap, make unix32 first)")
    p.add_argument("--report", default="SOAK.md", help="report file (default SOAK.md)")
    p.set_defaults(handler=_run)
