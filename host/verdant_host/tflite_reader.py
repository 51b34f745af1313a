"""Read a .tflite flatbuffer into plain Python objects (no interpreter needed).

Only what the exporter needs: subgraph 0, its operators in order, its tensors with
shapes, types, constant data and (per-axis) quantization. The flatbuffer schema is
TensorFlow's generated `schema_py_generated.py`, loaded from its file so that the
whole TensorFlow package is not imported.
"""
import importlib.util
import os
from dataclasses import dataclass, field

from verdant_host.errors import VerdantError

_SCHEMA = None


def _schema_candidates():
    for package, relative in (("tensorflow", ("lite", "python")),
                              ("tflite_micro", ("tensorflow", "lite", "micro", "python")),
                              ("ai_edge_litert", ())):
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.submodule_search_locations:
            for root in spec.submodule_search_locations:
                yield os.path.join(root, *relative, "schema_py_generated.py")


def schema():
    """The generated tflite schema module (loaded once)."""
    global _SCHEMA
    if _SCHEMA is None:
        for path in _schema_candidates():
            if os.path.exists(path):
                spec = importlib.util.spec_from_file_location("verdant_tflite_schema", path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                _SCHEMA = module
                break
        else:
            raise VerdantError("cannot find the tflite flatbuffer schema (schema_py_generated.py); "
                               "install tensorflow or tflite-micro (make setup)")
    return _SCHEMA


def _enum_names(enum_class):
    return {value: name for name, value in vars(enum_class).items()
            if not name.startswith("_") and isinstance(value, int)}


@dataclass
class Tensor:
    index: int
    name: str
    shape: tuple
    dtype: str                     # "INT8", "INT32", "FLOAT32", ...
    data: bytes = None             # constant contents, None for activations
    scales: list = field(default_factory=list)
    zero_points: list = field(default_factory=list)
    quantized_dimension: int = 0

    def describe(self):
        return "tensor %d '%s'" % (self.index, self.name)


@dataclass
class Operator:
    index: int
    op: str                        # "CONV_2D", "RESHAPE", ...
    inputs: tuple                  # tensor indices, -1 = optional input absent
    outputs: tuple
    options: object = None         # the schema's *OptionsT object, or None


@dataclass
class TfliteModel:
    tensors: list
    operators: list
    inputs: tuple
    outputs: tuple
    subgraph_count: int


def _decode_name(raw):
    if raw is None:
        return ""
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)


def _buffer_data(model, buf, index):
    if index is None or index <= 0 or index >= len(model.buffers):
        return None
    entry = model.buffers[index]
    if getattr(entry, "offset", 0) and entry.offset > 1:
        # large models keep buffers after the flatbuffer, addressed by offset/size
        return bytes(buf[entry.offset:entry.offset + entry.size])
    if entry.data is None or len(entry.data) == 0:
        return None
    return bytes(bytearray(entry.data))


def read_tflite(buf):
    """Parse .tflite bytes. Raises VerdantError when the bytes are not a tflite model."""
    buf = bytes(buf)
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise VerdantError("not a .tflite file: missing the TFL3 flatbuffer identifier")
    sg = schema()
    try:
        model = sg.ModelT.InitFromPackedBuf(buf, 0)
    except Exception as exc:  # the generated code raises anything on corrupt input
        raise VerdantError("cannot parse the .tflite flatbuffer (%s: %s)" % (type(exc).__name__, exc))
    if not model.subgraphs:
        raise VerdantError("the .tflite file has no subgraph")
    op_names = _enum_names(sg.BuiltinOperator)
    type_names = _enum_names(sg.TensorType)
    graph = model.subgraphs[0]
    tensors = []
    for index, t in enumerate(graph.tensors or []):
        q = t.quantization
        scales = [] if q is None or q.scale is None else [float(s) for s in q.scale]
        zero_points = [] if q is None or q.zeroPoint is None else [int(z) for z in q.zeroPoint]
        tensors.append(Tensor(
            index=index, name=_decode_name(t.name),
            shape=tuple(int(d) for d in (t.shape if t.shape is not None else ())),
            dtype=type_names.get(t.type, "TYPE_%d" % t.type),
            data=_buffer_data(model, buf, t.buffer),
            scales=scales, zero_points=zero_points,
            quantized_dimension=0 if q is None else int(q.quantizedDimension)))
    operators = []
    codes = model.operatorCodes or []
    for index, op in enumerate(graph.operators or []):
        if not 0 <= op.opcodeIndex < len(codes):
            raise VerdantError("operator %d has opcode index %d but the file has %d opcodes"
                               % (index, op.opcodeIndex, len(codes)))
        code = codes[op.opcodeIndex]
        for tensor_index in list(op.inputs if op.inputs is not None else []) + \
                list(op.outputs if op.outputs is not None else []):
            if not -1 <= tensor_index < len(tensors):
                raise VerdantError("operator %d refers to tensor %d but the graph has %d tensors"
                                   % (index, tensor_index, len(tensors)))
        # builtinCode superseded deprecatedBuiltinCode (a byte) for codes >= 127
        value = max(int(code.builtinCode), int(code.deprecatedBuiltinCode))
        name = op_names.get(value, "BUILTIN_%d" % value)
        if name == "CUSTOM":
            name = "CUSTOM(%s)" % _decode_name(code.customCode)
        operators.append(Operator(
            index=index, op=name,
            inputs=tuple(int(i) for i in (op.inputs if op.inputs is not None else ())),
            outputs=tuple(int(i) for i in (op.outputs if op.outputs is not None else ())),
            options=op.builtinOptions))
    for tensor_index in list(graph.inputs if graph.inputs is not None else []) + \
            list(graph.outputs if graph.outputs is not None else []):
        if not 0 <= tensor_index < len(tensors):
            raise VerdantError("the graph input/output tensor %d does not exist (%d tensors)"
                               % (tensor_index, len(tensors)))
    return TfliteModel(tensors=tensors, operators=operators,
                       inputs=tuple(int(i) for i in (graph.inputs if graph.inputs is not None else ())),
                       outputs=tuple(int(i) for i in (graph.outputs if graph.outputs is not None else ())),
                       subgraph_count=len(model.subgraphs))
