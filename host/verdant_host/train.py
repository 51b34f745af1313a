"""Train the early-warning model on simulated greenhouses, quantize it to full int8,
export the Verdant model file and write the report.

Task (early warning): which greenhouse event (dataset.LABELS) is in progress or starts
within the next 45 minutes at each 15-minute slot, from the last 3 hours of the board's
own features (dataset.py). The alert decision rule (threshold, debounce, per-class logit
offsets in the output bias) is tuned on validation scenarios, then the model is measured
on held-out test scenarios with the firmware's own alert engine (report.py).

    result = train(TrainConfig(), out_dir="models/default", progress=print)

Fixed seeds everywhere (data, weights, shuffling) and deterministic TF ops, so a run
reproduces the committed report within `make train-check`'s tolerance.
"""
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from verdant_host import dataset, greenhouse, report
from verdant_host.errors import VerdantError

MODEL_NAME = "verdant-default"
FILES = {"model": "model.bin", "tflite": "model.tflite", "report_md": "report.md",
         "report_json": "report.json", "timeline": "timeline.png"}


@dataclass
class TrainConfig:
    train_seeds: int = 240        # one simulated week each
    test_seeds: int = 40          # held out: seeds TEST_SEED_BASE + i
    days: float = 7.0
    epochs: int = 40
    batch_size: int = 256
    hidden: tuple = (48, 24)
    seed: int = 1
    representative: int = 500
    validation_seeds: int = 80    # decision-rule tuning: seeds VALIDATION_SEED_BASE + i
    false_alarm_margin: float = 0.7   # model false alarms <= margin x the baseline's, on validation
    tune_thresholds: tuple = (0.5, 0.6, 0.7, 0.8, 0.9)
    tune_consecutives: tuple = (2, 3, 4)
    tune_passes: int = 2

    @classmethod
    def quick(cls):
        """A smoke run in seconds (tests): tiny data, one epoch."""
        return cls(train_seeds=3, test_seeds=1, days=3.0, epochs=1, hidden=(8,), representative=32,
                   validation_seeds=2, tune_thresholds=(0.7,), tune_consecutives=(3,), tune_passes=1)


TEST_SEED_BASE = 100000
VALIDATION_SEED_BASE = 50000
LABELS = dataset.LABELS


def _quiet_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def build_keras_model(n_inputs, n_classes, hidden):
    import keras
    inputs = keras.Input(shape=(n_inputs,), name="features")
    x = inputs
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu", name="dense%d" % i)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs)


def class_weights(y, n_classes):
    """Square-root balanced weights: rare events matter without swamping 'normal'."""
    counts = np.bincount(y, minlength=n_classes).astype(float)
    weights = np.where(counts > 0, np.sqrt(counts.sum() / (n_classes * np.maximum(counts, 1))), 0.0)
    return {i: float(w) for i, w in enumerate(weights)}


def quantize(model, representative_x):
    """Full-integer post-training quantization (int8 weights, activations, input, output)."""
    from verdant_host.int8_tflite import convert_int8
    return convert_int8(model, [row[None, :] for row in representative_x])


class Int8Runner:
    """Runs the int8 .tflite with the TFLM reference interpreter (the verification oracle),
    quantizing float input and dequantizing the output as the board's engine does."""

    def __init__(self, tflite_bytes):
        from tflite_micro.python.tflite_micro import runtime
        self.interpreter = runtime.Interpreter.from_bytes(tflite_bytes)
        inp = self.interpreter.get_input_details(0)
        out = self.interpreter.get_output_details(0)
        self.in_scale, self.in_zp = inp["quantization_parameters"]["scales"][0], inp["quantization_parameters"]["zero_points"][0]
        self.out_scale, self.out_zp = out["quantization_parameters"]["scales"][0], out["quantization_parameters"]["zero_points"][0]

    def quantize_input(self, x):
        scaled = x.astype(np.float32) / np.float32(self.in_scale)
        q = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)  # round half away from zero, as TFLM
        return np.clip(q + self.in_zp, -128, 127).astype(np.int8)

    def predict(self, x):
        qx = self.quantize_input(x)
        out = np.empty((len(x), self._outputs()), dtype=np.float32)
        for i in range(len(x)):
            self.interpreter.set_input(qx[i:i + 1], 0)
            self.interpreter.invoke()
            q = self.interpreter.get_output(0).reshape(-1).astype(np.float32)
            out[i] = np.float32(self.out_scale) * (q - self.out_zp)
        return out

    def _outputs(self):
        return int(np.prod(self.interpreter.get_output_details(0)["shape"]))


def train(config=None, out_dir="models/default", progress=None, command="verdant train"):
    """Train, quantize, export and report. Returns the result dict (also in report.json)."""
    config = config or TrainConfig()
    say = progress or (lambda msg: None)
    _quiet_tensorflow()
    started = time.time()
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise VerdantError("cannot create output directory %s: %s" % (out_dir, exc.strerror or exc))
    import keras
    import tensorflow as tf
    from verdant_host.export import export_with_report
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()

    def data_progress(what):
        return lambda i, n: say("%s: scenario %d/%d" % (what, i, n)) if i == n or i % 20 == 0 else None

    train_data = dataset.build_dataset(range(config.train_seeds), config.days,
                                       progress=data_progress("training data"))
    say("training data: %d samples, class counts %s" % (len(train_data), np.bincount(
        train_data.y, minlength=len(LABELS)).tolist()))
    n_features = len(train_data.features)
    mean, std = dataset.normalization(train_data.x, n_features)
    x_train = dataset.normalize(train_data.x, mean, std)

    model = build_keras_model(x_train.shape[1], len(LABELS), config.hidden)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    class Progress(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            say("epoch %d/%d: loss %.4f accuracy %.4f" % (epoch + 1, config.epochs, logs["loss"], logs["accuracy"]))

    model.fit(x_train, train_data.y, batch_size=config.batch_size, epochs=config.epochs, verbose=0,
              shuffle=True, class_weight=class_weights(train_data.y, len(LABELS)),
              callbacks=[Progress()])
    names, window, period = train_data.features, train_data.window, train_data.period_s
    float_predict = lambda x: model.predict(x, batch_size=1024, verbose=0)  # noqa: E731

    say("tuning the alert decision rule on %d validation scenarios" % config.validation_seeds)
    val_runs = [report.run_scenario(greenhouse.random_scenario(VALIDATION_SEED_BASE + i, days=config.days),
                                    float_predict, names, mean, std, period, window)
                for i in range(config.validation_seeds)]
    _, val_alarms = report.event_metrics(val_runs)
    target = config.false_alarm_margin * val_alarms["baseline"]
    rule = report.tune_decision_rule(report.TuningSet(val_runs), target, config.tune_thresholds,
                                     config.tune_consecutives, passes=config.tune_passes, progress=say)
    rule.update({"validation_seeds": "%d..%d" % (VALIDATION_SEED_BASE, VALIDATION_SEED_BASE + config.validation_seeds - 1),
                 "validation_weeks": val_alarms["weeks"], "validation_baseline_false_alarms_per_week":
                 val_alarms["baseline"], "false_alarm_margin": config.false_alarm_margin})
    say("decision rule: threshold %.2f, %d in a row, logit offsets %s (validation: %.2f false alarms/week, "
        "baseline %.2f)" % (rule["threshold"], rule["consecutive"], rule["logit_offsets"],
                            rule["validation_false_alarms_per_week"], val_alarms["baseline"]))
    output = model.get_layer("classes")
    kernel, bias = output.get_weights()
    output.set_weights([kernel, (bias + np.array(rule["logit_offsets"])).astype(bias.dtype)])

    say("quantizing to int8 with %d representative samples" % config.representative)
    pick = np.random.default_rng(config.seed).choice(len(x_train), min(config.representative, len(x_train)),
                                                     replace=False)
    tflite_bytes = quantize(model, x_train[np.sort(pick)])
    meta = {"name": MODEL_NAME, "features": list(train_data.features),
            "norm_mean": [float(v) for v in mean], "norm_std": [float(v) for v in std],
            "labels": list(LABELS), "window": train_data.window, "period_s": train_data.period_s,
            "alert_threshold": rule["threshold"], "alert_consecutive": rule["consecutive"]}
    model_bytes, export_report = export_with_report(tflite_bytes, meta)

    say("evaluating on %d held-out scenarios" % config.test_seeds)
    runner = Int8Runner(tflite_bytes)
    test_scenarios = [greenhouse.random_scenario(TEST_SEED_BASE + i, days=config.days)
                      for i in range(config.test_seeds)]
    runs, y_true, float_pred = [], [], []
    for i, sc in enumerate(test_scenarios):
        run = report.run_scenario(sc, runner.predict, names, mean, std, period, window,
                                  rule["threshold"], rule["consecutive"])
        runs.append(run)
        keep = ~np.isnan(run.probs[:, 0])
        labels_idx, _ = dataset.label_samples(run.columns["timestamp_s"] - sc.start_timestamp_s, sc.events)
        y_true.append(labels_idx[keep])
        float_pred.append(np.argmax(float_predict(dataset.normalize(run.inputs[keep], mean, std)), axis=1)
                          if keep.any() else np.zeros(0, dtype=np.int64))
        if (i + 1) % 10 == 0 or i + 1 == len(test_scenarios):
            say("evaluated %d/%d" % (i + 1, len(test_scenarios)))
    y_true = np.concatenate(y_true)
    float_pred = np.concatenate(float_pred)
    int8_pred = np.concatenate([np.argmax(r.probs[~np.isnan(r.probs[:, 0])], axis=1) for r in runs])
    events, false_alarms = report.event_metrics(runs)

    result = {
        "command": command, "labels": list(LABELS), "features": list(names), "window": window,
        "horizon_s": dataset.HORIZON_S, "decision_rule": rule,
        "headline": report.headline(events, false_alarms),
        "period_s": period, "train_seeds": [0, config.train_seeds - 1],
        "test_seeds": "%d..%d" % (TEST_SEED_BASE, TEST_SEED_BASE + config.test_seeds - 1),
        "days_per_scenario": config.days, "train_samples": int(len(train_data)), "test_samples": int(len(y_true)),
        "epochs": config.epochs, "hidden": list(config.hidden), "parameters": int(model.count_params()),
        "model_file_bytes": len(model_bytes), "tflite_bytes": len(tflite_bytes),
        "arena_bytes": export_report.arena_bytes,
        "float": report.classification_metrics(y_true, float_pred, LABELS),
        "int8": report.classification_metrics(y_true, int8_pred, LABELS),
        "int8_float_agreement": float(np.mean(int8_pred == float_pred)) if len(y_true) else 0.0,
        "events": report.summarize_events(events), "event_list": events,
        "false_alarms_per_week": false_alarms,
    }
    result["train_seconds"] = round(time.time() - started, 1)
    result = report.json_safe(result)

    paths = {k: os.path.join(out_dir, v) for k, v in FILES.items()}
    with open(paths["model"], "wb") as f:
        f.write(model_bytes)
    with open(paths["tflite"], "wb") as f:
        f.write(tflite_bytes)
    report.write_json(paths["report_json"], result)
    report.write_markdown(paths["report_md"], result)
    report.plot_timeline(paths["timeline"], _pick_timeline(runs), LABELS)
    say("wrote %s (%d bytes) and the report in %s (%.0f s)" % (paths["model"], len(model_bytes), out_dir,
                                                             time.time() - started))
    return result


def _pick_timeline(runs):
    """The held-out scenario with the most kinds of greenhouse (not sensor) events."""
    def score(run):
        return len({e.kind for e in run.scenario.events if e.kind not in greenhouse.SENSOR_FAULTS})
    return max(runs, key=score)


_STARTED = time.time()


def stderr_progress(msg):
    print("train: [%4.0f s] %s" % (time.time() - _STARTED, msg), file=sys.stderr, flush=True)
