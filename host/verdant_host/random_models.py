"""Seeded random small Keras models converted to full-int8 .tflite, for the bit-exact
property test and `verdant verify`-style checks.

    case = random_case(seed)          # RandomCase(seed, description, tflite_bytes)

The same seed gives the same architecture, weights and representative data. Every
case draws: MLP or Conv1D; layer sizes; activations none/relu/relu6; conv strides,
dilation, padding same/valid; depthwise with multiplier 1..3; max pooling; global
average pooling or flatten; a linear, sigmoid or softmax head; per-channel or
per-tensor weight quantization; an input range that moves the input zero point.
TensorFlow is imported on first use (it takes seconds).
"""
import os
import random
from dataclasses import dataclass

import numpy as np

from verdant_host.int8_tflite import convert_int8

ACTIVATIONS = (None, "relu", "relu6")
HEADS = ("linear", "sigmoid", "softmax")


@dataclass
class RandomCase:
    seed: int
    description: str
    tflite_bytes: bytes
    per_channel: bool


def _tf():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras
    return tf, keras


def _activation(rng):
    return rng.choice(ACTIVATIONS)


def _conv_stack(rng, keras, x, length, parts):
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("conv", "conv", "depthwise", "pool"))
        padding = rng.choice(("same", "valid"))
        kernel = rng.randint(1, 4)
        stride = rng.choice((1, 1, 2))
        dilation = rng.choice((1, 1, 2)) if stride == 1 and kind != "pool" else 1
        span = (kernel - 1) * dilation + 1
        if padding == "valid" and span > length:
            padding = "same"
        if kind == "conv":
            filters = rng.randint(2, 10)  # one filter makes the converter emit a separate ADD
            act = _activation(rng)
            x = keras.layers.Conv1D(filters, kernel, strides=stride, padding=padding,
                                    dilation_rate=dilation, activation=act)(x)
            parts.append("conv1d(f%d,k%d,s%d,d%d,%s,%s)" % (filters, kernel, stride, dilation, padding, act))
        elif kind == "depthwise":
            multiplier = rng.randint(1, 3)
            act = _activation(rng)
            x = keras.layers.DepthwiseConv1D(kernel, strides=stride, padding=padding,
                                             depth_multiplier=multiplier, dilation_rate=dilation,
                                             activation=act)(x)
            parts.append("dwconv1d(k%d,m%d,s%d,d%d,%s,%s)" % (kernel, multiplier, stride, dilation, padding, act))
        else:
            pool = min(rng.randint(2, 3), length) if padding == "valid" else rng.randint(2, 3)
            x = keras.layers.MaxPooling1D(pool, strides=rng.randint(1, pool), padding=padding)(x)
            parts.append("maxpool1d(%d,%s)" % (pool, padding))
        length = int(x.shape[1])
    if rng.random() < 0.6:
        x = keras.layers.GlobalAveragePooling1D()(x)
        parts.append("gap")
    else:
        x = keras.layers.Flatten()(x)
        parts.append("flatten")
    return x


def _build(rng, keras):
    parts = []
    if rng.random() < 0.4:
        features = rng.randint(1, 24)
        inp = keras.Input((features,), batch_size=1)
        shape = (1, features)
        parts.append("mlp in %d" % features)
        x = inp
    else:
        length, features = rng.randint(3, 16), rng.randint(1, 6)
        inp = keras.Input((length, features), batch_size=1)
        shape = (1, length, features)
        parts.append("conv1d in %dx%d" % (length, features))
        x = _conv_stack(rng, keras, inp, length, parts)
    for _ in range(rng.randint(0, 2)):
        units, act = rng.randint(1, 16), _activation(rng)
        x = keras.layers.Dense(units, activation=act)(x)
        parts.append("dense(%d,%s)" % (units, act))
    head = rng.choice(HEADS)
    units = rng.randint(1, 6) if head != "softmax" else rng.randint(2, 6)
    x = keras.layers.Dense(units, activation=None if head == "linear" else head)(x)
    parts.append("dense(%d,%s)" % (units, head))
    return keras.Model(inp, x), shape, parts


def _randomize_weights(rng, model):
    np_rng = np.random.default_rng(rng.randint(0, 2 ** 31))
    for layer in model.layers:
        weights = layer.get_weights()
        if weights:
            layer.set_weights([np_rng.normal(0, rng.choice((0.1, 0.5, 1.0)), w.shape).astype(np.float32)
                               for w in weights])


def random_case(seed, samples=32):
    """Build, train-free randomize and convert one model. Returns a RandomCase."""
    _, keras = _tf()
    rng = random.Random(seed)
    keras.utils.set_random_seed(seed % (2 ** 31))
    model, shape, parts = _build(rng, keras)
    _randomize_weights(rng, model)
    per_channel = rng.random() < 0.5
    # an input range off-centre moves the input zero point anywhere in -128..127
    low = rng.uniform(-4.0, 3.0)
    high = low + rng.uniform(0.2, 6.0)
    data_rng = np.random.default_rng(seed)
    representative = [data_rng.uniform(low, high, shape).astype(np.float32) for _ in range(samples)]
    parts.append("per-channel" if per_channel else "per-tensor")
    parts.append("input range [%.2f, %.2f]" % (low, high))
    tflite = convert_int8(model, representative, per_channel)
    return RandomCase(seed=seed, description=" ".join(parts), tflite_bytes=bytes(tflite),
                      per_channel=per_channel)
