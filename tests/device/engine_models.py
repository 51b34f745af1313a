# Small valid models for the device engine tests, made with the one MicroPython-compatible
# model builder (verdant_host.model_builder); test_engine_api_host checks that it writes the
# same bytes as the exporter's writer.
from verdant_host.model_builder import build, fix_crc, layer  # noqa: F401  (the tests import them from here)


def fc_model(in_c=4, out_c=3, seed=1):
    """A small valid per-channel FULLY_CONNECTED model with bias."""
    weights = bytes(((i * 37 + seed * 11) % 255) for i in range(in_c * out_c))
    return build([layer(1, (1, 1, in_c), (1, 1, out_c), in_zp=-3, out_zp=5, weights=weights,
                        bias=[100 * (i - 1) for i in range(out_c)],
                        multipliers=[(1 << 30) + 12345 * i for i in range(out_c)],
                        shifts=[-7 - (i % 3) for i in range(out_c)])],
                 meta=b'{"labels": ["a", "b", "c"], "window": 12}')


def conv1d_model():
    # 24 steps x 6 features -> conv k3 x16 SAME -> maxpool 2 -> conv k3 x16 -> mean -> FC 9 -> softmax
    w1 = bytes(((i * 29) % 251) for i in range(16 * 3 * 6))
    w2 = bytes(((i * 31) % 253) for i in range(16 * 3 * 16))
    w3 = bytes(((i * 37) % 255) for i in range(9 * 16))
    return build([
        layer(2, (1, 24, 6), (1, 24, 16), in_zp=-3, out_zp=-128, kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
              pad=(0, 1), weights=w1, bias=[50] * 16, multipliers=[1 << 30] * 16, shifts=[-9] * 16, act=(-128, 127)),
        layer(4, (1, 24, 16), (1, 12, 16), in_zp=-128, out_zp=-128, kernel=(1, 2), stride=(1, 2), dilation=(1, 1)),
        layer(2, (1, 12, 16), (1, 12, 16), in_zp=-128, out_zp=-100, kernel=(1, 3), stride=(1, 1), dilation=(1, 1),
              pad=(0, 1), weights=w2, multipliers=[1 << 30], shifts=[-10]),
        layer(5, (1, 12, 16), (1, 1, 16), in_zp=-100, out_zp=-90, multipliers=[1431655765], shifts=[-3]),
        layer(1, (1, 1, 16), (1, 1, 9), in_zp=-90, out_zp=10, weights=w3, multipliers=[1 << 30] * 9, shifts=[-7] * 9),
        layer(7, (1, 1, 9), (1, 1, 9), in_zp=10, out_zp=-128, params=(1 << 30, 23, -248)),
    ])
