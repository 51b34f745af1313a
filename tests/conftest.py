"""Shared pytest set-up: host tests import the device code from device/."""
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEVICE_DIR = os.path.join(REPO, "device")
if DEVICE_DIR not in sys.path:
    sys.path.insert(0, DEVICE_DIR)
