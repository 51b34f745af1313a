"""`verdant flash`: MicroPython firmware onto an ESP32 (esptool) or a Pico (UF2)."""
import os

from verdant_host.deploy import load_board_config
from verdant_host.flash import flash_firmware


def _run(args):
    print("flash: " + flash_firmware(load_board_config(args.board), args.port, args.firmware, drive=args.drive))
    return 0


def register(subparsers):
    p = subparsers.add_parser("flash", help="flash MicroPython firmware (esptool for ESP32, UF2 for Pico)")
    p.add_argument("--board", default=os.environ.get("BOARD"), required=not os.environ.get("BOARD"),
                   help="board name (boards/NAME.json)")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port (ESP boards)")
    p.add_argument("--firmware", default=os.environ.get("FIRMWARE"), help=".bin (ESP) or .uf2 (Pico) file")
    p.add_argument("--drive", help="the RPI-RP2 / RP2350 drive (default: found among mounted drives)")
    p.set_defaults(handler=_run)
