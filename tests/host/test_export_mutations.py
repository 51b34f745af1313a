"""Corrupted .tflite files: the exporter either refuses them with a VerdantError or
writes a model file the engine's parser accepts; it never crashes otherwise."""
import random

import numpy as np

from test_export_builder import PAD, TfliteBuilder, fc_model
from verdant.engine import modelfile
from verdant_host.errors import VerdantError
from verdant_host.export import export_tflite


def _conv_pool_mean_softmax():
    b = TfliteBuilder()
    x = b.act((1, 1, 8, 3), 0.05, -10)
    w = b.tensor((4, 1, 3, 3), "INT8", [0.01, 0.02, 0.03, 0.04], 0, np.ones((4, 1, 3, 3), np.int8))
    c = b.act((1, 1, 8, 4), 0.1, 0)
    p = b.act((1, 1, 4, 4), 0.1, 0)
    axes = b.tensor((2,), "INT32", data=np.array([1, 2], np.int32))
    m = b.act((1, 4), 0.08, 3)
    y = b.act((1, 4), 1 / 256, -128)
    b.op("CONV_2D", [x, w, -1], [c], "Conv2DOptions", padding=PAD["SAME"], strideH=1, strideW=1,
         dilationHFactor=1, dilationWFactor=1)
    b.op("MAX_POOL_2D", [c], [p], "Pool2DOptions", padding=PAD["VALID"], strideH=1, strideW=2,
         filterHeight=1, filterWidth=2)
    b.op("MEAN", [p, axes], [m], "ReducerOptions")
    b.op("SOFTMAX", [m], [y], "SoftmaxOptions", beta=1.0)
    return b.build([x], [y])


def test_random_byte_mutations_are_refused_or_exported_validly():
    rng = random.Random(2024)
    seeds = [fc_model()[0], _conv_pool_mean_softmax()]
    for seed_model in seeds:
        export_tflite(seed_model)  # both originals are valid
    outcomes = {"refused": 0, "exported": 0}
    for _ in range(1500):
        buf = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        try:
            data = export_tflite(bytes(buf))
        except VerdantError:
            outcomes["refused"] += 1
            continue
        outcomes["exported"] += 1
        modelfile.parse(data)  # a ModelError here means the exporter wrote a bad file
    assert outcomes["refused"] > 100 and outcomes["exported"] > 100, outcomes
