"""Helper for the exporter tests (no tests here): builds small .tflite flatbuffers
directly with the schema's object API, so each test states every scale, zero
point, shape and option of the graph it feeds the exporter."""
import flatbuffers
import numpy as np

from verdant_host.tflite_reader import schema

ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3, "TANH": 4}
PAD = {"SAME": 0, "VALID": 1}


class TfliteBuilder:
    def __init__(self):
        self.sg = schema()
        self.tensors = []
        self.buffers = [self.sg.BufferT()]
        self.opcodes = []
        self.operators = []

    def tensor(self, shape, dtype="INT8", scale=None, zp=None, data=None, qdim=0, name=None):
        """Add a tensor; scale/zp may be a number or a list (per axis). Returns its index."""
        sg = self.sg
        t = sg.TensorT()
        t.shape = list(shape)
        t.type = getattr(sg.TensorType, dtype)
        t.name = (name or "t%d" % len(self.tensors)).encode()
        if data is not None:
            buffer = sg.BufferT()
            buffer.data = list(np.asarray(data).tobytes())
            self.buffers.append(buffer)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = sg.QuantizationParametersT()
            q.scale = list(np.atleast_1d(np.asarray(scale, dtype=np.float32)))
            zps = zp if zp is not None else 0
            q.zeroPoint = list(np.atleast_1d(np.asarray(zps, dtype=np.int64)))
            if len(q.zeroPoint) == 1 and len(q.scale) > 1:
                q.zeroPoint = q.zeroPoint * len(q.scale)
            q.quantizedDimension = qdim
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def act(self, shape, scale, zp, dtype="INT8"):
        return self.tensor(shape, dtype, scale, zp)

    def op(self, name, inputs, outputs, options=None, **fields):
        """Add an operator; options is the schema *Options name, fields its values."""
        sg = self.sg
        code = getattr(sg.BuiltinOperator, name)
        if code not in [c.builtinCode for c in self.opcodes]:
            opcode = sg.OperatorCodeT()
            opcode.builtinCode = code
            opcode.deprecatedBuiltinCode = min(code, 127)
            self.opcodes.append(opcode)
        o = sg.OperatorT()
        o.opcodeIndex = [c.builtinCode for c in self.opcodes].index(code)
        o.inputs = list(inputs)
        o.outputs = list(outputs)
        if options:
            opts = getattr(sg, options + "T")()
            for key, value in fields.items():
                setattr(opts, key, value)
            o.builtinOptionsType = getattr(sg.BuiltinOptions, options)
            o.builtinOptions = opts
        self.operators.append(o)
        return len(self.operators) - 1

    def build(self, inputs, outputs):
        sg = self.sg
        graph = sg.SubGraphT()
        graph.tensors = self.tensors
        graph.operators = self.operators
        graph.inputs = list(inputs)
        graph.outputs = list(outputs)
        model = sg.ModelT()
        model.version = 3
        model.operatorCodes = self.opcodes
        model.subgraphs = [graph]
        model.buffers = self.buffers
        fb = flatbuffers.Builder(1024)
        fb.Finish(model.Pack(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())


def fc_model(in_c=6, out_c=4, per_channel=True, bias=True, activation="NONE", in_zp=-5,
             out_zp=3, in_scale=0.05, out_scale=0.1, seed=0, in_shape=None, batch=1):
    """One FULLY_CONNECTED layer; returns (tflite bytes, weights int8 [out, in])."""
    rng = np.random.default_rng(seed)
    b = TfliteBuilder()
    x = b.act(in_shape or (batch, in_c), in_scale, in_zp)
    weights = rng.integers(-127, 128, (out_c, in_c), dtype=np.int8)
    w_scale = list(rng.uniform(0.001, 0.01, out_c)) if per_channel else 0.004
    w = b.tensor((out_c, in_c), "INT8", w_scale, 0, weights)
    bias_t = b.tensor((out_c,), "INT32", 0.0002, 0, rng.integers(-1000, 1000, out_c, dtype=np.int32)) \
        if bias else -1
    y = b.act((batch, out_c), out_scale, out_zp)
    b.op("FULLY_CONNECTED", [x, w, bias_t], [y], "FullyConnectedOptions",
         fusedActivationFunction=ACT[activation])
    return b.build([x], [y]), weights
