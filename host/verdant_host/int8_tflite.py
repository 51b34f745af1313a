"""Full-integer post-training quantization of a Keras model to an int8 .tflite (int8
weights, activations, input and output): the one conversion training, the random bit-exact
models, the benchmarks and the tests use.

Example:
    tflite = convert_int8(model, [x[None, :] for x in rows])    # samples with the batch axis
"""
import numpy as np


def convert_int8(model, samples, per_channel=True):
    """The .tflite bytes. samples: representative inputs, each shaped like one batch-1 input;
    per_channel=False quantizes Dense and Conv weights per tensor (TF's default is per channel)."""
    import tensorflow as tf
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([np.asarray(s, dtype=np.float32)] for s in samples)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    if not per_channel:
        converter._experimental_disable_per_channel = True
        converter._experimental_disable_per_channel_quantization_for_dense_layers = True
    return bytes(converter.convert())
