"""`verdant deploy`: firmware, board config and model onto a board (or the vboard)."""
import os

from verdant_host import paths
from verdant_host.deploy import deploy
from verdant_host.errors import VerdantError



def _run(args):
    if not args.port:
        raise VerdantError("deploy: no serial port; pass --port /dev/ttyUSB0 (or PORT=... with make)")
    model = args.model or paths.DEFAULT_MODEL
    if not os.path.exists(model):
        raise VerdantError("deploy: model file %s not found; pass --model PATH" % model)

    place = None
    if (args.latitude is None) != (args.longitude is None):
        raise VerdantError("deploy: --latitude and --longitude go together")
    if args.latitude is not None:
        place = (args.latitude, args.longitude)

    def progress(path, done, total):
        if args.verbose:
            print("  %s %d/%d" % (path, done, total), flush=True)
        elif done >= total:  # one line per file, so a slow serial link visibly moves
            print("  sent %s (%d bytes)" % (path, total), flush=True)

    report = deploy(args.board, args.port, model, transport=args.transport, reset=not args.no_reset,
                    progress=progress, baudrate=args.baud, forget_learned=args.forget_learned, place=place)
    print(report.summary())
    if report.model_verified:
        print("deploy: the model was checked on the board (its own firmware parsed it) before it replaced the old one")
    return 0


def register(subparsers):
    p = subparsers.add_parser("deploy", help="copy firmware, board config and model to a board (incremental)")
    p.add_argument("--board", default=os.environ.get("BOARD", "sim"), help="board name (boards/NAME.json) or config path")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port of the board ($PORT)")
    p.add_argument("--model", help="model file (default: the committed models/default/model.bin)")
    p.add_argument("--transport", default=os.environ.get("TRANSPORT", "mpremote"), choices=("mpremote", "ampy"),
                   help="serial REPL tool to copy with ($TRANSPORT, default mpremote)")
    p.add_argument("--baud", type=int, default=115200)
    p.add_argument("--latitude", type=float, default=None,
                   help="the site's latitude, degrees north, written into board.json (a model's sun gates follow "
                        "the sun there; default: the board config's, none: the model's clock hours)")
    p.add_argument("--longitude", type=float, default=None, help="the site's longitude, degrees east (with --latitude)")
    p.add_argument("--no-reset", action="store_true", help="do not reset the board afterwards")
    p.add_argument("--forget-learned", action="store_true",
                   help="also make the board forget what its detectors learned (as `verdant forget-learned`)")
    p.add_argument("-v", "--verbose", action="store_true", help="show progress per chunk")
    p.set_defaults(handler=_run)
