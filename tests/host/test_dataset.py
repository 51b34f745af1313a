"""Training windows: built by verdant.features, labelled by the simulator's events."""
import numpy as np
import pytest

from verdant import features as vf
from verdant_host import dataset, greenhouse as g

HOUR = 3600


def test_sample_is_the_last_window_of_feature_rows_from_the_board_code():
    sc = g.Scenario(seed=3, days=1, start_doy=40)
    cols = g.simulate(sc).sample(dataset.SENSOR_PERIOD_S)
    readings = {q: cols[q] for q in g.QUANTITIES}
    steps, x, keep = dataset.rows_to_samples(cols["timestamp_s"], readings)
    # one feature step per period, on the first reading of each period
    assert (np.diff(cols["timestamp_s"][steps]) == dataset.PERIOD_S).all()
    # the first row has no rate of change yet (one value), so the first full input is row WINDOW
    assert not keep[:dataset.WINDOW].any(), "no input before the window has filled"
    assert keep[dataset.WINDOW:].all()
    # Recompute step 20 independently: clean readings go straight into the board's FeatureState.
    state = vf.FeatureState(period_s=dataset.PERIOD_S, window=dataset.WINDOW)
    for j in range(21):
        i = steps[j]
        state.add(int(cols["timestamp_s"][i]), {q: float(cols[q][i]) for q in g.QUANTITIES})
    rows = state.rows(dataset.WINDOW)
    expected = [rows[k][name] for k in range(dataset.WINDOW) for name in dataset.FEATURES]
    np.testing.assert_allclose(x[20], expected, rtol=1e-5, atol=1e-5)
    # Time-major layout: the latest air temperature sits in the last row of the window.
    last_row = x[20].reshape(dataset.WINDOW, len(dataset.FEATURES))[-1]
    assert last_row[dataset.FEATURES.index("air_temp_c")] == pytest.approx(cols["air_temp_c"][steps[20]], abs=1e-4)


def test_the_firmware_sampler_rejects_a_lone_spike_before_the_features():
    t = np.arange(0, 6 * 3600, 300) + 1_000_000_200
    temp = np.full(len(t), 20.0)
    temp[29] = 45.0  # one implausible jump on a feature step; the next reading is normal again
    readings = {"air_temp_c": temp, "rh_pct": np.full(len(t), 60.0)}
    steps, x, keep = dataset.rows_to_samples(t, readings, names=("air_temp_c",), window=1)
    assert 29 in steps.tolist()
    assert x[:, 0].max() == 20.0


def test_samples_during_a_sensor_dropout_are_left_out():
    sc = g.Scenario(seed=3, days=1, start_doy=40, events=[g.Event(g.SENSOR_DROPOUT, 8 * HOUR, 3 * HOUR, "co2_ppm")])
    x, y, t, event_id = dataset.scenario_samples(sc)
    rel = t - sc.start_timestamp_s
    # the sampler keeps a value for 2 sensor periods, then co2 is missing until the end
    assert not ((rel >= 8 * HOUR + 2 * dataset.SENSOR_PERIOD_S) & (rel < 11 * HOUR)).any()
    assert len(y) == len(x) and not np.isnan(x).any()
    # the window needs 2 h of complete rows again after the dropout ends
    assert rel[rel >= 11 * HOUR].min() == pytest.approx(11 * HOUR + dataset.WINDOW * dataset.PERIOD_S, abs=dataset.PERIOD_S)


def test_labels_warn_from_the_horizon_before_the_onset_to_the_end():
    sc = g.Scenario(seed=4, days=2, start_doy=20, events=[g.Event(g.HEATING_FAILURE, 20 * HOUR, 6 * HOUR)])
    x, y, t, event_id = dataset.scenario_samples(sc)
    rel = t - sc.start_timestamp_s
    labelled = (rel >= 20 * HOUR - dataset.HORIZON_S) & (rel < 26 * HOUR)
    assert (y[labelled] == dataset.LABELS.index(g.HEATING_FAILURE)).all()
    assert (y[~labelled] == 0).all() and (event_id[labelled] == 1).all() and (event_id[~labelled] == 0).all()
    assert labelled.sum() == (6 * HOUR + dataset.HORIZON_S) // dataset.PERIOD_S


def test_sensor_faults_are_not_a_model_class():
    assert "sensor_fault" not in dataset.LABELS and dataset.LABELS[0] == g.NORMAL
    assert set(dataset.LABELS[1:]) == set(g.EVENT_KINDS) - set(g.SENSOR_FAULTS)
    events = [g.Event(g.SENSOR_DRIFT, 2 * HOUR, 3 * HOUR, "air_temp_c"), g.Event(g.FROST_NIGHT, 10 * HOUR, 16 * HOUR)]
    t_rel = np.arange(0, 30 * HOUR, dataset.PERIOD_S)
    y, event_id = dataset.label_samples(t_rel, events, horizon_s=HOUR)
    assert (y[t_rel < 9 * HOUR] == 0).all() and (event_id[t_rel < 9 * HOUR] == 0).all()
    frost = (t_rel >= 9 * HOUR) & (t_rel < 26 * HOUR)
    assert (y[frost] == dataset.LABELS.index(g.FROST_NIGHT)).all() and (event_id[frost] == 2).all()
    assert (y[t_rel >= 26 * HOUR] == 0).all()


def test_build_dataset_is_deterministic_and_normalization_is_per_feature():
    a = dataset.build_dataset([1, 2], days=2)
    b = dataset.build_dataset([1, 2], days=2)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert set(a.scenario.tolist()) == {0, 1}
    mean, std = dataset.normalization(a.x, len(a.features))
    z = dataset.normalize(a.x, mean, std).reshape(-1, len(a.features))
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-3)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-2)
    with pytest.raises(ValueError, match="no seeds"):
        dataset.build_dataset([], days=1)
