"""Verdant host tools. The shared device code (device/verdant) is imported from the
repository itself, so the host and the board run the very same source."""
import os
import sys

DEVICE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "device")
if DEVICE_DIR not in sys.path:
    sys.path.insert(0, DEVICE_DIR)
