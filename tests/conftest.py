"""Shared pytest set-up. The host tests import the board's code as the `verdant` package
(host/verdant links to device/verdant), from the install or PYTHONPATH=host."""
