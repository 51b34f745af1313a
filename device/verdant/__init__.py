"""Verdant: greenhouse monitoring firmware. Shared by the board and the host tools."""
VERSION = "0.1.0"
