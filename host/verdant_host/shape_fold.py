"""Folds shape arithmetic on static shapes into constants before export walks the graph.

A Keras model with a dynamic batch converts Flatten (and other reshapes) into
SHAPE -> STRIDED_SLICE -> PACK -> RESHAPE: the new shape is computed at run time from the
input's shape. With the batch fixed at 1 every such shape is known, so these ops are
evaluated here (numpy, batch 1) and dropped, with any op left feeding nothing but them;
the RESHAPE then reads a constant shape.

    fold_static_shapes(tflite)   # mutates a verdant_host.tflite_reader.TfliteModel

Only integer ops whose inputs are all constant (or SHAPE of any tensor) are folded. A
foldable op computing on a value only known at run time raises VerdantError naming it.
"""
import numpy as np

from verdant_host.errors import VerdantError

_INT_TYPES = {"INT32": "<i4", "INT64": "<i8"}
FOLDABLE = ("SHAPE", "STRIDED_SLICE", "PACK", "CONCATENATION", "GATHER", "SLICE", "REDUCE_PROD",
            "MUL", "ADD", "SUB", "CAST")


def _value(tensor):
    if tensor.data is None or tensor.dtype not in _INT_TYPES:
        return None
    return np.frombuffer(tensor.data, dtype=_INT_TYPES[tensor.dtype]).reshape(tensor.shape).astype(np.int64)


def _strided_slice(op, value, begin, end, strides):
    o = op.options
    if getattr(o, "ellipsisMask", 0) or getattr(o, "newAxisMask", 0):
        raise ValueError("ellipsis or new-axis masks")
    index = []
    for axis in range(len(begin)):
        b = None if o.beginMask >> axis & 1 else int(begin[axis])
        e = None if o.endMask >> axis & 1 else int(end[axis])
        if o.shrinkAxisMask >> axis & 1:
            index.append(int(begin[axis]))
        else:
            index.append(slice(b, e, int(strides[axis])))
    return np.asarray(value[tuple(index)])


def _evaluate(op, tensors, args):
    """The op's integer result from its constant inputs (numpy), or ValueError."""
    name, o = op.op, op.options
    if name == "STRIDED_SLICE":
        return _strided_slice(op, *args)
    if name == "PACK":
        return np.stack(args, axis=o.axis)
    if name == "CONCATENATION":
        return np.concatenate([np.atleast_1d(a) for a in args], axis=o.axis)
    if name == "GATHER":
        return np.take(args[0], args[1], axis=o.axis)
    if name == "SLICE":
        begin, size = args[1], args[2]
        return args[0][tuple(slice(int(b), None if s < 0 else int(b) + int(s)) for b, s in zip(begin, size))]
    if name == "REDUCE_PROD":
        axes = tuple(int(a) for a in np.atleast_1d(args[1]))
        return np.prod(args[0], axis=axes, keepdims=bool(getattr(o, "keepDims", False)))
    if name in ("MUL", "ADD", "SUB"):
        if getattr(o, "fusedActivationFunction", 0):
            raise ValueError("a fused activation")
        return {"MUL": np.multiply, "ADD": np.add, "SUB": np.subtract}[name](args[0], args[1])
    if name == "CAST":
        return args[0]
    raise ValueError("no folding rule")


def fold_static_shapes(tflite):
    """Evaluates the shape arithmetic of tflite (batch 1) and removes it from its operators."""
    tensors = tflite.tensors
    kept = []
    for op in tflite.operators:
        if op.op not in FOLDABLE or len(op.outputs) != 1:
            kept.append(op)
            continue
        out = tensors[op.outputs[0]]
        if op.op == "SHAPE":
            result = np.array(tensors[op.inputs[0]].shape, dtype=np.int64)
        else:
            inputs = [tensors[i] for i in op.inputs if i >= 0]
            args = [_value(t) for t in inputs]
            if out.dtype not in _INT_TYPES:
                kept.append(op)  # arithmetic on activations: the export walk takes it or refuses it
                continue
            missing = [t for t, a in zip(inputs, args) if a is None]
            if missing:
                raise VerdantError("operator %d (%s) computes on %s, which is only known at run time: only "
                                   "shape arithmetic on static shapes (batch 1) can be folded"
                                   % (op.index, op.op, missing[0].describe()))
            try:
                result = _evaluate(op, tensors, args)
            except (ValueError, IndexError, TypeError, AttributeError) as exc:
                raise VerdantError("operator %d (%s) cannot be folded into a constant: %s" % (op.index, op.op, exc))
        if out.dtype not in _INT_TYPES:
            raise VerdantError("operator %d (%s) writes %s, not an integer shape" % (op.index, op.op, out.dtype))
        result = np.asarray(result).astype(_INT_TYPES[out.dtype])
        out.data = result.tobytes()
        out.shape = tuple(result.shape)
    folded = [op for op in tflite.operators if op not in kept]
    tflite.operators = _without_feeders_of(folded, kept, tflite.outputs)
    return tflite


def _without_feeders_of(folded, operators, graph_outputs):
    """operators minus those whose outputs only folded ops read (e.g. the squeeze that fed
    nothing but a folded SHAPE), repeated while that frees more. Other dead ends stay, for
    the export walk to refuse."""
    folded = list(folded)
    while True:
        read_by_kept = set(graph_outputs)
        for op in operators:
            read_by_kept.update(op.inputs)
        read_by_folded = set(i for op in folded for i in op.inputs)
        dead = [op for op in operators
                if all(o in read_by_folded and o not in read_by_kept for o in op.outputs)]
        if not dead:
            return operators
        folded += dead
        operators = [op for op in operators if op not in dead]
