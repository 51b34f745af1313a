"""`verdant` command line. Each module in verdant_host/commands/ adds its subcommands
through register(subparsers); every command is also an importable function."""
import argparse
import importlib
import pkgutil
import sys

from verdant_host import commands
from verdant_host.errors import VerdantError


def build_parser():
    parser = argparse.ArgumentParser(prog="verdant", description="Verdant greenhouse TinyML host tools")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module("verdant_host.commands." + info.name).register(subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args) or 0
    except VerdantError as exc:
        print("verdant: %s" % exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("verdant: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
