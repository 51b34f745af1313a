"""Small valid model files for deploy tests, written with the project's model writer."""
from verdant_host import model_writer as mw

DEFAULT_FEATURES = ("air_temp_c", "rh_pct", "co2_ppm", "soil_moisture_pct")


def _fc(n_in, n_out, bias):
    return mw.LayerSpec(op=mw.OP_FULLY_CONNECTED, in_zp=0, out_zp=0, act_min=-128, act_max=127,
                        in_shape=(1, 1, n_in), out_shape=(1, 1, n_out), weights=bytes([1] * (n_in * n_out)),
                        bias=[bias] * n_out, multipliers=[1 << 30], shifts=[-1])


def tiny_model(name="tiny", features=DEFAULT_FEATURES, bias=0, hidden=0):
    """FULLY_CONNECTED model(s) with the given input features and 2 labels;
    hidden > 0 adds a hidden layer of that width (a bigger file)."""
    n = len(features)
    layers = [_fc(n, hidden, bias), _fc(hidden, 2, -bias)] if hidden else [_fc(n, 2, bias)]
    meta = {"name": name, "features": list(features), "norm_mean": [0.0] * n, "norm_std": [1.0] * n,
            "labels": ["normal", "frost_risk"], "window": 1, "period_s": 300}
    return mw.write_model(layers, meta, input_q=(0.1, 0), output_q=(0.05, 0))
