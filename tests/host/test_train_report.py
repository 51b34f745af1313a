"""Report logic: debounced model alerts, baseline alarms, event detection and false alarms."""
import numpy as np

from verdant_host import baseline, greenhouse as g, report

N = len(g.LABELS)


def probs_for(classes, p=0.9):
    out = np.full((len(classes), N), (1 - p) / (N - 1))
    for i, c in enumerate(classes):
        out[i, c] = p
    return out


def test_model_alert_needs_consecutive_confident_predictions_of_one_class():
    k = report.ALERT_CONSECUTIVE
    classes = [0, 1] + [2] * k + [0]
    alerts = report.model_alerts(probs_for(classes))
    assert alerts.tolist() == [0, 0] + [0] * (k - 1) + [2] + [0]
    weak = report.model_alerts(probs_for([3] * (k + 2), p=report.ALERT_THRESHOLD - 0.05))
    assert not weak.any()
    gap = probs_for([4] * (k + 1))
    gap[1] = np.nan  # no input for one sample restarts the count
    assert report.model_alerts(gap).tolist()[:k] == [0] * k


def test_baseline_alarms_on_fixed_thresholds_ignoring_missing_values():
    cols = {"timestamp_s": np.arange(4), "air_temp_c": np.array([20, 5, np.nan, 20.0]),
            "co2_ppm": np.array([500, 500, 500, 1300.0]), "soil_moisture_pct": np.full(4, 35.0),
            "rh_pct": np.full(4, 60.0)}
    assert baseline.threshold_alarms(cols).tolist() == [False, True, False, True]
    assert baseline.debounce([1, 1, 0, 1, 1, 1], 2).tolist() == [False, True, False, False, True, True]


def test_event_metrics_lead_time_and_false_alarms():
    sc = g.Scenario(seed=1, days=1, start_doy=20, events=[g.Event(g.HEATING_FAILURE, 36000, 7200)])
    t = np.arange(0, 86400, 900)
    cols = {"timestamp_s": t + sc.start_timestamp_s}
    model = np.zeros(len(t), dtype=np.int64)
    model[(t >= 36000 + 1800) & (t < 43200)] = g.LABELS.index(g.HEATING_FAILURE)
    model[(t >= 3600) & (t < 5400)] = 5                      # a false alarm before the event
    model[(t >= 43200 + 3600) & (t < 43200 + 5400)] = 5      # inside the grace period: not counted
    base = (t >= 36000 + 5400) & (t < 43200)
    run = report.ScenarioRun(sc, cols, np.zeros((len(t), N)), model, base)
    events, fa = report.event_metrics([run])
    assert events[0]["model_s"] == 1800 and events[0]["baseline_s"] == 5400
    summary = report.summarize_events(events)[g.HEATING_FAILURE]
    assert summary["median_lead_vs_baseline_min"] == 60
    assert summary["model_detected"] == summary["baseline_detected"] == 1.0
    assert fa["model"] == 7.0 and fa["baseline"] == 0.0  # one false alarm in one day = 7 per week
    assert fa["model_by_class"] == {g.LABELS[5]: 7.0}


def test_classification_metrics_from_a_known_confusion():
    m = report.classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ("a", "b"))
    assert m["confusion"] == [[1, 1], [0, 2]]
    assert m["accuracy"] == 0.75
    assert m["per_class"]["b"]["precision"] == 2 / 3 and m["per_class"]["a"]["recall"] == 0.5
