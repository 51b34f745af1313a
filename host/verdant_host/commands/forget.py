"""`verdant forget-learned --port P`: the board forgets what its detectors learned
(verdant_host.learned_forget) and learns from scratch; for a sensor swapped for another of
the same model, which the board cannot tell."""
import os

from verdant_host.errors import VerdantError
from verdant_host.learned_forget import forget_learned


def _run(args):
    if not args.port:
        raise VerdantError("forget-learned: no serial port; pass --port /dev/ttyUSB0 (or PORT=... with make)")
    result = forget_learned(args.port, transport=args.transport, baudrate=args.baud)
    had = " and ".join(result["had"]) or "no learned-state file"
    print("forget-learned: the board on %s had %s; learned.bin now says forgotten. The firmware restarted: it "
          "learns from scratch (the band judges again after a day of readings) and its status line says "
          "\"learned\": \"forgotten\"" % (args.port, had))
    return 0


def register(subparsers):
    p = subparsers.add_parser("forget-learned", help="make a board forget what its detectors learned (learned.bin), "
                                                     "e.g. after a sensor was swapped")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port ($PORT)")
    p.add_argument("--transport", default=os.environ.get("TRANSPORT", "mpremote"), choices=("mpremote", "ampy"))
    p.add_argument("--baud", type=int, default=115200)
    p.set_defaults(handler=_run)
