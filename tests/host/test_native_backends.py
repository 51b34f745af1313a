"""The three C backends (host ASan/UBSan, Cortex-M0+ on QEMU, natmod .mpy) on hand-checked models."""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import c_backends  # noqa: E402
from verdant_host import model_builder as builder  # noqa: E402

BACKENDS = sorted(c_backends.BACKENDS)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tiny_fc_by_hand(backend):
    # zp_in -3, w [[1,-2,3],[4,5,-6]], bias [10,-20], M 0.5, shift -2, zp_out 5.
    # x=[0,1,2]: acc0 = 3-8+15+10 = 20 -> 20*0.5/4 = 2.5 -> 3 (+5 = 8); acc1 = 12+20-30-20 = -18 -> -2.25 -> -2 (3)
    # x=[127,-128,-127]: acc0 = 130+250-372+10 = 18 -> 2.25 -> 2 (7);
    #   acc1 = 520-625+744-20 = 619 -> high-mul rounds 309.5 to 310, /4 = 77.5 -> 78 (83): double rounding
    run = c_backends.BACKENDS[backend]
    out = run(builder.tiny_fc(), [bytes([0, 1, 2]), bytes([127, 128, 129])])
    assert out == [bytes([8, 3]), bytes([7, 83])]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rejected_model_message(backend):
    bad = builder.patch(builder.tiny_fc(), 4, "<H", 2)
    with pytest.raises(c_backends.CModelError, match=r"^model: unsupported format version: found 2, expected 1$"):
        c_backends.BACKENDS[backend](bad, [bytes(3)])
