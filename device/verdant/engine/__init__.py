"""The int8 inference engine: load a Verdant model file and run it.

    from verdant import engine
    net = engine.load("/model.bin")          # or the file's bytes
    probs = net.predict([0.1, -0.4, ...])      # floats in, floats out
    print(net.backend, net.labels)

Backends, fastest first: 'natmod' (the native module `verdant_nn`), 'viper'
(@micropython.viper loops), 'python' (portable). All compute TFLM's int8
arithmetic bit for bit. Buffers are allocated once at load; predict() and
predict_int8() allocate nothing per inference on the natmod and viper paths.
"""
import array

from verdant.engine.modelfile import ModelError, parse  # noqa: F401  (ModelError re-exported)
from verdant.engine.quant import round_half_away

BACKENDS = ("natmod", "viper", "python")
_FLOAT32_MAX = 3.4028234663852886e38
# Beyond this |x / s| the clamp decides alone, so float32 rounding cannot matter.
_CLAMP_CERTAIN = 1.0e6
_FLOATS_ARE_DOUBLE = (1.0 + 2.0 ** -40) != 1.0


_FLOAT32_SLOT = array.array("f", (0.0,))  # rounding through it makes one float, no bytes or tuple


def _float32(x):
    """x rounded to float32 (identity on single-precision ports)."""
    if _FLOATS_ARE_DOUBLE:
        _FLOAT32_SLOT[0] = x
        return _FLOAT32_SLOT[0]
    return x


def quantize(x, scale, zero_point):
    """TFLM QUANTIZE of one float: clamp(roundf(float32(x) / float32(scale)) + zp).

    NaN raises ValueError; +-inf (and anything far outside the range) clamps to 127/-128.
    """
    if x != x:
        raise ValueError("NaN")
    if x > _FLOAT32_MAX or x < -_FLOAT32_MAX:  # float32(x) would be +-inf
        return 127 if x > 0 else -128
    q = x / scale
    if q > _CLAMP_CERTAIN:
        return 127
    if q < -_CLAMP_CERTAIN:
        return -128
    q = _float32(_float32(x) / _float32(scale))
    y = round_half_away(q) + zero_point
    return -128 if y < -128 else 127 if y > 127 else y


def dequantize(q, scale, zero_point):
    """TFLM DEQUANTIZE: float32(scale * (q - zp))."""
    return _float32(scale * (q - zero_point))


def _load_natmod():
    try:
        import verdant_nn
    except (ImportError, ValueError) as exc:  # ValueError: .mpy for another arch or version
        return None, "native module verdant_nn not importable (%s)" % exc
    return verdant_nn, None


def _load_viper():
    try:
        from verdant.engine import ops_viper
    # CPython or a port without viper (ImportError, SyntaxError); a viper compile error on
    # an untested architecture (ViperTypeError is a TypeError; too many locals) falls back too
    except (ImportError, SyntaxError, TypeError, NotImplementedError) as exc:
        return None, "viper emitter not available (%s)" % exc
    return ops_viper, None


class Engine:
    """A loaded model. Attributes: backend, labels, meta, arena_bytes, model,
    input_elements, output_elements."""

    def __init__(self, buf, backend=None):
        if backend is not None and backend not in BACKENDS:
            raise ValueError("unknown engine backend %r; choose one of %s" % (backend, ", ".join(BACKENDS)))
        self.model = parse(buf)  # ModelError with the parser's message
        self.meta = self.model.meta
        self.labels = self.model.labels
        self.arena_bytes = self.model.arena_bytes
        self.input_elements = self.model.input_elements
        self.output_elements = self.model.output_elements
        try:
            self._input = bytearray(self.input_elements)
            self._output = bytearray(self.output_elements)
            self._result = [0.0] * self.output_elements
            self._floats = None  # output byte -> its dequantized float, made once (predict)
            self._steps = None   # the input quantizer as 255 float steps (predict)
            self.backend = self._choose(backend)
        except MemoryError:
            raise ModelError("model: needs %d arena bytes plus %d input and %d output bytes, "
                             "more than this board has free" % (self.arena_bytes, self.input_elements,
                                                                 self.output_elements))

    def _choose(self, wanted):
        reasons = []
        for name in BACKENDS:
            if wanted is not None and name != wanted:
                continue
            if name == "natmod":
                module, reason = _load_natmod()
                if module is not None:
                    self._init_natmod(module)
                    return name
            elif name == "viper":
                module, reason = _load_viper()
                if module is not None:
                    self._init_interpreted(module.ViperLayers(self.model))
                    return name
            else:
                from verdant.engine.ops_python import PythonLayers
                self._init_interpreted(PythonLayers(self.model))
                return name
            reasons.append(reason)
        raise ValueError("engine backend %r unavailable: %s" % (wanted, "; ".join(reasons)))

    def _init_natmod(self, native):
        buf = self.model.buf
        try:
            # parse() has verified the CRC: the C check skips it (the CRC once per load)
            needed = native.check(buf, False)
        except TypeError:  # a verdant_nn.mpy older than check(buf, crc)
            needed = native.check(buf)
        except ValueError as exc:
            raise ModelError("model: native parser: %s" % exc)
        if needed != self.arena_bytes:
            raise ModelError("model: native module needs %d arena bytes, header says %d"
                             % (needed, self.arena_bytes))
        self._native = native
        self._arena = bytearray(needed)
        native.init(buf, self._arena)
        self._run = self._run_natmod

    def _init_interpreted(self, layers):
        size = max(max(layer.in_size, layer.out_size) for layer in self.model.layers)
        self._layers = layers
        self._a = array.array("b", bytes(size))
        self._b = array.array("b", bytes(size))
        # a backend that converts bytes itself (viper) skips the per-element Python copy
        self._run = self._run_bytes if hasattr(layers, "run_bytes") else self._run_interpreted

    def _run_bytes(self):
        self._layers.run_bytes(self._input, self._a, self._b, self._output)

    def _run_natmod(self):
        self._native.run(self.model.buf, self._arena, self._input, self._output)

    def _run_interpreted(self):
        src = self._a
        data = self._input
        for i in range(self.input_elements):
            v = data[i]
            src[i] = v - 256 if v > 127 else v
        out = self._layers.run(src, self._b)
        result = self._output
        for i in range(self.output_elements):
            result[i] = out[i] & 0xFF

    def predict_int8(self, inp):
        """Run on int8 input bytes (two's complement, exactly input_elements of them).
        Returns the int8 output as a bytearray owned by the engine: it is overwritten by
        the next call, copy it with bytes() to keep it."""
        if len(inp) != self.input_elements:
            raise ValueError("input has %d bytes, the model takes %d" % (len(inp), self.input_elements))
        self._input[:] = inp
        self._run()
        return self._output

    def _input_steps(self):
        """Sorted floats b[0..254]: quantize(x) = -128 + (number of b[k] <= x). Built once;
        quantize is monotone, so each step is found by bisection on the float line."""
        scale, zp = self.model.input_scale, self.model.input_zero_point
        # found into an array (no objects left between the bisection's garbage), then made
        # into the list of floats in one go after a collection: a small board's heap stays
        # in one piece
        found = array.array("d" if _FLOATS_ARE_DOUBLE else "f", bytes((8 if _FLOATS_ARE_DOUBLE else 4) * 255))
        for target in range(-127, 128):
            lo = (target - zp - 1.5) * scale  # quantizes below target
            hi = (target - zp + 0.5) * scale  # quantizes to target or above
            while quantize(lo, scale, zp) >= target:
                lo -= scale
            while quantize(hi, scale, zp) < target:
                hi += scale
            while True:
                mid = (lo + hi) / 2
                if mid == lo or mid == hi:
                    break
                if quantize(mid, scale, zp) >= target:
                    hi = mid
                else:
                    lo = mid
            found[target + 127] = hi
        import gc
        gc.collect()
        steps = [None] * 255
        for i in range(255):
            steps[i] = found[i]
        return steps

    def quantize_value(self, x):
        """One model input as its int8 byte (0..255, two's complement): TFLM's QUANTIZE.
        NaN raises ValueError."""
        return quantize(x, self.model.input_scale, self.model.input_zero_point) & 0xFF

    def predict_quantized(self, inp):
        """Run on int8 input bytes (from quantize_value) and return the output floats
        (the same list object each call). No tables are kept: each output float is new."""
        result = self._result
        output = self.predict_int8(inp)
        for i in range(self.output_elements):
            q = output[i]
            result[i] = dequantize(q - 256 if q > 127 else q, self.model.output_scale, self.model.output_zero_point)
        return result

    def predict(self, features):
        """Quantize floats, run, dequantize: returns a list of output_elements floats
        (the same list object each call). NaN features raise ValueError naming the index.

        Allocates nothing once warm: quantizing is a search in a table of the 255 float
        steps of the input quantizer (exactly TFLM's QUANTIZE, see _input_steps, built at
        the first call), and each output byte's float is made once and kept."""
        n = self.input_elements
        if len(features) != n:
            raise ValueError("got %d features, the model takes %d" % (len(features), n))
        steps = self._steps
        if steps is None:  # built at the first call: a board running predict_quantized never needs it
            steps = self._steps = self._input_steps()
            self._floats = [None] * 256
        data = self._input
        for i in range(n):
            x = features[i]
            if x != x:
                raise ValueError("feature %d is NaN" % i)
            lo = 0
            hi = 255
            while lo < hi:  # count of steps <= x
                mid = (lo + hi) >> 1
                if steps[mid] <= x:
                    lo = mid + 1
                else:
                    hi = mid
            data[i] = (lo - 128) & 0xFF
        self._run()
        floats = self._floats
        result = self._result
        output = self._output
        for i in range(self.output_elements):
            q = output[i]
            value = floats[q]
            if value is None:
                value = floats[q] = dequantize(q - 256 if q > 127 else q, self.model.output_scale,
                                               self.model.output_zero_point)
            result[i] = value
        return result


def load(buf_or_path, backend=None):
    """Load a model from bytes or a file path. backend None picks the fastest available;
    'natmod' | 'viper' | 'python' forces one (ValueError if unknown or unavailable).
    A malformed file raises ModelError (a ValueError) naming what is wrong."""
    if isinstance(buf_or_path, str):
        with open(buf_or_path, "rb") as f:
            buf_or_path = f.read()
    return Engine(buf_or_path, backend)
