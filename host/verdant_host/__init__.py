"""Verdant host tools. The board's own code (device/verdant) is the `verdant` package on
the host too (host/verdant links to it), so the host and the board run the very same
source; where things live is in verdant_host.paths."""
