"""`verdant demo`: firmware + default model on a fresh virtual board, 48 h with a fault."""
from verdant_host.demo import run_demo


def _run(args):
    run_demo(board=args.board, model=args.model, speed=args.speed, days=args.days, fault=args.fault or None,
             db_path=args.db, work_dir=args.work_dir, micropython=args.micropython, heap_bytes=args.heap)
    return 0


def register(subparsers):
    p = subparsers.add_parser("demo", help="run the firmware on a virtual board through a simulated 48 h with a fault")
    p.add_argument("--board", default="sim", help="any board config; its sensors and heap budget on the virtual board (default sim)")
    p.add_argument("--micropython", help="interpreter (default: the wheel's for sim, build/unix32/micropython32 for the others when built)")
    p.add_argument("--heap", type=int, help="interpreter heap bytes (default: the board config's heap_bytes)")
    p.add_argument("--model", help="model file (default: the committed models/default model)")
    p.add_argument("--speed", type=float, default=3600.0, help="simulated seconds per real second (default 3600)")
    p.add_argument("--days", type=float, default=2.0, help="simulated days (default 2)")
    p.add_argument("--fault", default="heating_failure", help="greenhouse event injected the first night")
    p.add_argument("--db", default="build/demo/monitor.sqlite", help="monitor database (for `verdant plot`)")
    p.add_argument("--work-dir", help="folder for the board filesystem and truth CSV (default build/demo)")
    p.set_defaults(handler=_run)
