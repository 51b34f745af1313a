"""`verdant info`: versions of the shared device code and the tools in use."""
from verdant_host.versions import info


def _run(args):
    for key, value in info(args.micropython).items():
        print("%s: %s" % (key, value))


def register(subparsers):
    p = subparsers.add_parser("info", help="show versions of Verdant and the MicroPython in use")
    p.add_argument("--micropython", help="path of the micropython Unix port (default $MICROPYTHON)")
    p.set_defaults(handler=_run)
