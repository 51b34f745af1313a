"""Training windows: built by verdant.features, labelled by the simulator's events."""
import numpy as np
import pytest

from verdant import features as vf
from verdant_host import dataset, greenhouse as g

HOUR = 3600


def test_sample_is_the_last_window_of_feature_rows_from_the_board_code():
    sc = g.Scenario(seed=3, days=1, start_doy=40)
    cols = g.simulate(sc).sample(dataset.PERIOD_S)
    readings = {q: cols[q] for q in g.QUANTITIES}
    x, keep = dataset.rows_to_samples(cols["timestamp_s"], readings)
    # the first row has no rate of change yet (one value), so the first full input is row WINDOW
    assert not keep[:dataset.WINDOW].any(), "no input before the window has filled"
    assert keep[dataset.WINDOW:].all()
    # Recompute sample 20 independently: feed the board's FeatureState row by row.
    state = vf.FeatureState(period_s=dataset.PERIOD_S, window=dataset.WINDOW)
    for i in range(21):
        state.add(int(cols["timestamp_s"][i]), {q: float(cols[q][i]) for q in g.QUANTITIES})
    rows = state.rows(dataset.WINDOW)
    expected = [rows[k][name] for k in range(dataset.WINDOW) for name in dataset.FEATURES]
    np.testing.assert_allclose(x[20], expected, rtol=1e-6, atol=1e-6)
    # Time-major layout: the latest air temperature sits in the last row of the window.
    last_row = x[20].reshape(dataset.WINDOW, len(dataset.FEATURES))[-1]
    assert last_row[dataset.FEATURES.index("air_temp_c")] == pytest.approx(cols["air_temp_c"][20], abs=1e-4)


def test_samples_during_a_sensor_dropout_are_left_out():
    sc = g.Scenario(seed=3, days=1, start_doy=40, events=[g.Event(g.SENSOR_DROPOUT, 8 * HOUR, 3 * HOUR, "co2_ppm")])
    x, y, t, event_id = dataset.scenario_samples(sc)
    rel = t - sc.start_timestamp_s
    assert not ((rel >= 8 * HOUR) & (rel < 11 * HOUR)).any()
    assert len(y) == len(x) and not np.isnan(x).any()
    # the window needs 2 h of complete rows again after the dropout ends
    assert rel[rel >= 11 * HOUR].min() == pytest.approx(11 * HOUR + dataset.WINDOW * dataset.PERIOD_S, abs=dataset.PERIOD_S)


def test_labels_follow_the_event_span():
    sc = g.Scenario(seed=4, days=2, start_doy=20, events=[g.Event(g.HEATING_FAILURE, 20 * HOUR, 6 * HOUR)])
    x, y, t, event_id = dataset.scenario_samples(sc)
    rel = t - sc.start_timestamp_s
    inside = (rel >= 20 * HOUR) & (rel < 26 * HOUR)
    assert (y[inside] == g.LABELS.index(g.HEATING_FAILURE)).all()
    assert (y[~inside] == 0).all() and (event_id[inside] == 1).all()
    assert inside.sum() == 6 * HOUR // dataset.PERIOD_S


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
