"""@micropython.viper int8 kernels: the multiply-accumulate loops in native code.

Viper ints are machine words (32 bit on boards), so the viper functions only form
int32 accumulators (sum of weight * (input - zp), never near 2^31 for our layer
sizes) and the max-pool; bias, 64-bit requantization and clamping run in ordinary
Python (verdant.engine.ops_python.requantize), so results equal ops_python's.
MEAN, LOGISTIC and SOFTMAX reuse ops_python unchanged.

Importing this module needs MicroPython with the viper emitter; elsewhere it raises
ImportError or SyntaxError and the engine falls back to the Python backend.
"""
import array

import micropython

from verdant.engine import ops_python
from verdant.engine.modelfile import (OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED,
                                      OP_LOGISTIC, OP_MAX_POOL_2D, OP_SOFTMAX)

# Geometry words passed to the viper kernels in one int32 array (zero point + 128
# keeps every word non-negative, so no sign extension of 32-bit loads is needed).
_W_OFF, _IN_H, _IN_W, _IN_C, _OUT_H, _OUT_W, _OUT_C = 0, 1, 2, 3, 4, 5, 6
_K_H, _K_W, _S_H, _S_W, _D_H, _D_W, _P_T, _P_L, _ZP128, _MULT = 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
_GEOMETRY_WORDS = 17


def geometry(layer):
    g = array.array("i", [0] * _GEOMETRY_WORDS)
    g[_W_OFF] = layer.weights_offset
    g[_IN_H], g[_IN_W], g[_IN_C] = layer.in_h, layer.in_w, layer.in_c
    g[_OUT_H], g[_OUT_W], g[_OUT_C] = layer.out_h, layer.out_w, layer.out_c
    g[_K_H], g[_K_W], g[_S_H], g[_S_W] = layer.kernel_h, layer.kernel_w, layer.stride_h, layer.stride_w
    g[_D_H], g[_D_W], g[_P_T], g[_P_L] = layer.dilation_h, layer.dilation_w, layer.pad_top, layer.pad_left
    g[_ZP128] = layer.zp_in + 128
    g[_MULT] = layer.depth_multiplier
    return g


# In the viper functions below, g is the array made by geometry(): g[0] weights offset,
# g[1..3] input h/w/c, g[4..6] output h/w/c, g[7..14] kernel, stride, dilation, padding,
# g[15] input zero point + 128, g[16] depth multiplier.

@micropython.viper
def fully_connected_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w = int(g[0])
    depth = int(g[1]) * int(g[2]) * int(g[3])
    zp = int(g[15]) - 128
    for c in range(int(g[6])):
        total = 0
        for d in range(depth):
            total += (((int(model[w]) ^ 128) - 128) * (((int(src[d]) ^ 128) - 128) - zp))
            w += 1
        acc[c] = total


@micropython.viper
def conv_2d_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w_off = int(g[0])
    in_h = int(g[1])
    in_w = int(g[2])
    in_c = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    out_c = int(g[6])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    dh = int(g[11])
    dw = int(g[12])
    pt = int(g[13])
    pl = int(g[14])
    zp = int(g[15]) - 128
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        for ox in range(out_w):
            x0 = ox * sw - pl
            for oc in range(out_c):
                total = 0
                for fy in range(kh):
                    y = y0 + fy * dh
                    if y < 0 or y >= in_h:
                        continue
                    for fx in range(kw):
                        x = x0 + fx * dw
                        if x < 0 or x >= in_w:
                            continue
                        s = (y * in_w + x) * in_c
                        wi = w_off + ((oc * kh + fy) * kw + fx) * in_c
                        for ic in range(in_c):
                            total += ((int(model[wi + ic]) ^ 128) - 128) * (((int(src[s + ic]) ^ 128) - 128) - zp)
                acc[o] = total
                o += 1


@micropython.viper
def depthwise_conv_2d_acc(model: ptr8, src: ptr8, acc: ptr32, g: ptr32):
    w_off = int(g[0])
    in_h = int(g[1])
    in_w = int(g[2])
    in_c = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    out_c = int(g[6])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    dh = int(g[11])
    dw = int(g[12])
    pt = int(g[13])
    pl = int(g[14])
    zp = int(g[15]) - 128
    mult = int(g[16])
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        for ox in range(out_w):
            x0 = ox * sw - pl
            for oc in range(out_c):
                ic = oc // mult
                total = 0
                for fy in range(kh):
                    y = y0 + fy * dh
                    if y < 0 or y >= in_h:
                        continue
                    for fx in range(kw):
                        x = x0 + fx * dw
                        if x < 0 or x >= in_w:
                            continue
                        wv = (int(model[w_off + (fy * kw + fx) * out_c + oc]) ^ 128) - 128
                        v = ((int(src[(y * in_w + x) * in_c + ic]) ^ 128) - 128) - zp
                        total += wv * v
                acc[o] = total
                o += 1


@micropython.viper
def max_pool_2d_viper(src: ptr8, dst: ptr8, g: ptr32, act_range: int):
    in_h = int(g[1])
    in_w = int(g[2])
    channels = int(g[3])
    out_h = int(g[4])
    out_w = int(g[5])
    kh = int(g[7])
    kw = int(g[8])
    sh = int(g[9])
    sw = int(g[10])
    pt = int(g[13])
    pl = int(g[14])
    act_min = (act_range >> 8) - 128    # act_range packs (min + 128) << 8 | (max + 128)
    act_max = (act_range & 255) - 128
    o = 0
    for oy in range(out_h):
        y0 = oy * sh - pt
        y_start = y0 if y0 > 0 else 0
        y_end = y0 + kh if y0 + kh < in_h else in_h
        for ox in range(out_w):
            x0 = ox * sw - pl
            x_start = x0 if x0 > 0 else 0
            x_end = x0 + kw if x0 + kw < in_w else in_w
            for c in range(channels):
                best = -128
                for y in range(y_start, y_end):
                    for x in range(x_start, x_end):
                        v = (int(src[(y * in_w + x) * channels + c]) ^ 128) - 128
                        if v > best:
                            best = v
                if best < act_min:
                    best = act_min
                if best > act_max:
                    best = act_max
                dst[o] = best
                o += 1


def _requantize_all(layer, acc, dst):
    """Add bias, requantize and clamp each accumulator (ordinary Python: 64-bit maths)."""
    bias = layer.bias
    out_c = layer.out_c
    requantize = ops_python.requantize
    c = 0
    for i in range(layer.out_size):
        total = acc[i]
        if bias is not None:
            total += bias[c]
        dst[i] = requantize(layer, c, total)
        c += 1
        if c == out_c:
            c = 0


class ViperLayers:
    """Runs a parsed model: viper MAC loops, Python requantization."""

    def __init__(self, model):
        self.model = model
        self.steps = []
        acc_size = 1
        for layer in model.layers:
            if layer.op in (OP_FULLY_CONNECTED, OP_CONV_2D, OP_DEPTHWISE_CONV_2D):
                acc_size = max(acc_size, layer.out_size)
            if layer.op == OP_LOGISTIC:
                extra = ops_python.logistic_table(layer, array.array("b", bytes(256)))
            elif layer.op == OP_SOFTMAX:
                extra = ops_python.softmax_exp_table(layer)
            else:
                extra = None
            self.steps.append((layer, geometry(layer), extra))
        self.acc = array.array("i", [0] * acc_size)  # preallocated int32 accumulators

    def run(self, src, dst):
        """Run every layer, ping-ponging between src and dst; return the buffer holding the output."""
        buf = self.model.buf
        acc = self.acc
        for layer, g, extra in self.steps:
            op = layer.op
            if op == OP_FULLY_CONNECTED:
                fully_connected_acc(buf, src, acc, g)
                _requantize_all(layer, acc, dst)
            elif op == OP_CONV_2D:
                conv_2d_acc(buf, src, acc, g)
                _requantize_all(layer, acc, dst)
            elif op == OP_DEPTHWISE_CONV_2D:
                depthwise_conv_2d_acc(buf, src, acc, g)
                _requantize_all(layer, acc, dst)
            elif op == OP_MAX_POOL_2D:
                max_pool_2d_viper(src, dst, g, ((layer.act_min + 128) << 8) | (layer.act_max + 128))
            elif op == OP_LOGISTIC:
                ops_python.apply_table(extra, src, dst, layer.in_size)
            elif op == OP_SOFTMAX:
                ops_python.softmax(layer, extra, src, dst)
            else:
                ops_python.mean(layer, src, dst)
            src, dst = dst, src
        return src
