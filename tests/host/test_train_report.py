"""Report logic: the firmware's model alerts, baseline alarms, event detection, false
alarms and the decision-rule tuning."""
import numpy as np

from verdant_host import baseline, dataset, greenhouse as g, report

N = len(report.LABELS)
HOUR = 3600


def probs_for(classes, p=0.9):
    out = np.full((len(classes), N), (1 - p) / (N - 1))
    for i, c in enumerate(classes):
        out[i, c] = p
    return out


def test_model_alert_is_the_firmware_engine_raise_after_consecutive_confident_predictions():
    k = 3
    classes = [0, 1] + [2] * k + [0] * k + [0]
    t = np.arange(len(classes)) * 900
    active, raised = report.firmware_alerts(t, probs_for(classes), threshold=0.7, consecutive=k)
    assert raised.tolist() == [0, 0] + [0] * (k - 1) + [2] + [0] * (k + 1)
    # active from the raise until k predictions below the clear level in a row
    assert active.tolist() == [0, 0] + [0] * (k - 1) + [2] + [2] * (k - 1) + [0, 0]
    weak = report.firmware_alerts(t, probs_for([3] * len(classes), p=0.65), threshold=0.7, consecutive=k)[1]
    assert not weak.any()
    gap = probs_for([4] * (k + 1))
    gap[1] = np.nan  # no input: the app does not call the engine, the count goes on
    assert report.firmware_alerts(np.arange(k + 1) * 900, gap, threshold=0.7, consecutive=k)[1].tolist() == \
        [0] * k + [4]


def test_fast_alerts_agree_with_the_firmware_alert_engine():
    rng = np.random.default_rng(5)
    n, c = 2000, 0
    probs = np.zeros((n, N))
    for i in range(n):
        if rng.random() < 0.15:
            c = int(rng.integers(N))
        p = 0.5 * rng.dirichlet(np.full(N, 0.3))
        p[c] += 0.5
        probs[i] = p
    t = np.arange(n) * 900
    for threshold, consecutive in ((0.5, 2), (0.6, 3), (0.7, 1), (0.8, 4)):
        _, raised = report.firmware_alerts(t, probs, threshold=threshold, consecutive=consecutive)
        spans = report.fast_alerts(t, probs, threshold, consecutive)
        assert sorted((r, cls) for cls, r, _ in spans) == [(int(i), int(raised[i])) for i in np.flatnonzero(raised)]
        assert len(spans) > 0 or threshold == 0.8


def test_firmware_settings_lower_the_clear_level_below_a_low_threshold():
    assert report.firmware_alert_settings(0.8, 2) == {"model_threshold": 0.8, "model_consecutive": 2, "model_clear": 0.5}
    assert abs(report.firmware_alert_settings(0.4, 2)["model_clear"] - 0.28) < 1e-9


def test_baseline_alarms_on_fixed_thresholds_ignoring_missing_values():
    cols = {"timestamp_s": np.arange(4), "air_temp_c": np.array([20, 5, np.nan, 20.0]),
            "co2_ppm": np.array([500, 500, 500, 1300.0]), "soil_moisture_pct": np.full(4, 35.0),
            "rh_pct": np.full(4, 60.0)}
    assert baseline.threshold_alarms(cols).tolist() == [False, True, False, True]
    assert baseline.debounce([1, 1, 0, 1, 1, 1], 2).tolist() == [False, True, False, False, True, True]


def _run(model_spans, base_span, events, extra_raises=()):
    sc = g.Scenario(seed=1, days=1, start_doy=20, events=events)
    t = np.arange(0, 86400, 900)
    cols = {"timestamp_s": t + sc.start_timestamp_s}
    active = np.zeros(len(t), dtype=np.int64)
    raised = np.zeros(len(t), dtype=np.int64)
    for cls, a, b in model_spans:
        on = (t >= a) & (t < b)
        active[on] = cls
        raised[np.argmax(on)] = cls
    base = (t >= base_span[0]) & (t < base_span[1])
    return report.ScenarioRun(sc, cols, np.zeros((len(t), N)), active, base, raised)


def test_event_metrics_latency_before_the_onset_lead_time_and_false_alarms():
    heating = report.LABELS.index(g.HEATING_FAILURE)
    other = report.LABELS.index(g.HEAT_WAVE)
    run = _run([(heating, 36000 - 1800, 43200),        # 30 min before the onset: early warning
                (other, 3600, 5400),                    # a false alarm in a quiet greenhouse
                (other, 43200 + 3600, 43200 + 5400),    # within the grace period after the event
                (other, 70200, 72000)],                 # during a sensor fault: counted apart
               (36000 + 5400, 43200),
               [g.Event(g.HEATING_FAILURE, 36000, 7200), g.Event(g.SENSOR_STUCK, 68400, 7200, "rh_pct")])
    events, fa = report.event_metrics([run], horizon_s=2700)
    assert events[0]["model_s"] == -1800 and events[0]["baseline_s"] == 5400
    summary = report.summarize_events(events)[g.HEATING_FAILURE]
    assert summary["median_lead_vs_baseline_min"] == 120 and summary["model_before_onset"] == 1
    assert summary["model_detected"] == summary["baseline_detected"] == 1.0
    assert fa["model"] == 7.0 and fa["baseline"] == 0.0  # one false alarm in one day = 7 per week
    assert fa["model_by_class"] == {g.HEAT_WAVE: 7.0} and fa["model_in_sensor_faults"] == 7.0
    head = report.headline(events, fa)
    assert head["greenhouse_events"] == 1 and head["model_earlier"] == 1 and head["model_later"] == 0


def test_an_alert_before_the_horizon_is_a_false_alarm_not_a_detection():
    heating = report.LABELS.index(g.HEATING_FAILURE)
    run = _run([(heating, 36000 - 3 * 3600, 36000 - 2 * 3600)], (0, 0), [g.Event(g.HEATING_FAILURE, 36000, 7200)])
    events, fa = report.event_metrics([run], horizon_s=2700)
    assert events[0]["model_s"] is None and fa["model"] == 7.0


def test_tuning_trades_a_noisy_class_for_fewer_false_alarms():
    """Validation runs where heat_wave fires falsely at 0.75 but frost_night is real at
    0.95: the tuner must keep frost alerts and silence the noise (threshold or offset)."""
    frost = report.LABELS.index(g.FROST_NIGHT)
    noise = report.LABELS.index(g.HEAT_WAVE)
    runs = []
    for seed in range(4):
        sc = g.Scenario(seed=seed, days=2, start_doy=20, events=[g.Event(g.FROST_NIGHT, 20 * HOUR, 16 * HOUR)])
        t = np.arange(0, 2 * 86400, 900)
        classes = np.zeros(len(t), dtype=np.int64)
        classes[(t >= 20 * HOUR) & (t < 36 * HOUR)] = frost
        probs = probs_for(classes, p=0.95)
        noisy = (t >= 4 * HOUR) & (t < 6 * HOUR)
        probs[noisy] = probs_for(np.full(noisy.sum(), noise), p=0.75)
        runs.append(report.ScenarioRun(sc, {"timestamp_s": t + sc.start_timestamp_s}, probs,
                                       np.zeros(len(t), dtype=np.int64), np.zeros(len(t), dtype=bool)))
    tuning = report.TuningSet(runs, horizon_s=dataset.HORIZON_S)
    fa, _, detected = tuning.score(np.zeros(N), 0.7, 2)
    assert fa > 0 and detected == 4
    rule = report.tune_decision_rule(tuning, fa_target=0.0, thresholds=(0.7,), consecutives=(2,))
    assert rule["validation_false_alarms_per_week"] == 0.0 and rule["validation_detected"] == 4
    assert rule["logit_offsets"][noise] < 0
