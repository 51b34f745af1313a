"""`verdant vboard`: run a virtual board on a pseudo-terminal until Ctrl-C."""
import os
import signal
import sys
import tempfile

from verdant_host import vboard_scenario
from verdant_host.errors import VerdantError
from verdant_host.vboard import VirtualBoard


def run_vboard(fs_dir="build/vboard/fs", speed=3600.0, replay=None, days=2.0, fault="heating_failure",
               seed=7, port_file=None, link=None, heap_bytes=None, micropython=None, out=sys.stdout):
    """Start a virtual board and serve it until SIGINT/SIGTERM. Returns 0."""
    work = tempfile.mkdtemp(prefix="vboard-truth")
    faults = None
    if replay:
        truth_csv = os.path.abspath(replay)
        start_s = vboard_scenario.truth_csv_start(truth_csv)
    else:  # --fault sensor_*: the simulated part misbehaves
        truth_csv, start_s, faults = vboard_scenario.board_inputs(work, days=days, fault=fault, seed=seed)
    board = VirtualBoard(fs_dir, speed=speed, truth_csv=truth_csv, sim_t0=start_s, faults=faults,
                         heap_bytes=heap_bytes, micropython=micropython,
                         log=lambda msg: print(msg, file=sys.stderr, flush=True))
    stop = []
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.append(1) or board.stop())
    try:
        port = board.start()
        if link:
            if os.path.islink(link):
                os.unlink(link)
            os.symlink(port, link)
        if port_file:
            with open(port_file + ".tmp", "w") as f:
                f.write(port + "\n")
            os.replace(port_file + ".tmp", port_file)
        print("vboard: serial port %s (filesystem %s, clock x%g, truth %s)"
              % (port, os.path.abspath(fs_dir), speed, replay or "greenhouse simulator"), file=out, flush=True)
        board.wait()
    except KeyboardInterrupt:
        pass
    finally:
        board.stop()
        signal.signal(signal.SIGTERM, previous)
        for path in (link, port_file):
            if path and os.path.lexists(path):
                os.unlink(path)
        if os.path.exists(os.path.join(work, "truth.csv")):
            os.unlink(os.path.join(work, "truth.csv"))
        os.rmdir(work)
    return 0


def _run(args):
    if args.speed <= 0:
        raise VerdantError("vboard: --speed must be > 0, got %g" % args.speed)
    return run_vboard(args.fs, args.speed, args.replay, args.days, args.fault or None, args.seed,
                      args.port_file, args.link, args.heap, args.micropython)


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
    p.add_argument("--heap", type=int, help="interpreter heap bytes, to mimic the board's RAM")
    p.add_argument("--micropython", help="micropython Unix port (default $MICROPYTHON)")
    p.set_defaults(handler=_run)
