"""Set models without a light sensor raise too_cold only in the dark hours (the board's
clock), the alert rule is set on every training greenhouse in turn, and the dev splits are
judged together (verdant_host.fieldclassifier, verdant_host.setmodels)."""
import numpy as np

from verdant.alerts import AlertEngine
from verdant_host import fieldclassifier as fc
from verdant_host import report, setmodels

HOUR = 3600
COLD = fc.LABELS.index("too_cold")


def _scenario(index, lamps, lit_hours, days=2):
    ts = np.arange(0, days * 86400, 300, dtype=np.int64) + 1767139200   # midnight UTC
    dark_rows = ~np.isin((ts // HOUR) % 24, lit_hours)
    return ({"index": index, "greenhouse": {"lamps": lamps}}, ts, {}, dark_rows)


def test_dark_hours_are_those_no_greenhouse_without_lamps_saw_daylight_in():
    day = list(range(8, 17))
    scenarios = [_scenario(0, False, day), _scenario(1, False, day + [7]),
                 _scenario(2, True, list(range(0, 18)))]   # lamps: not daylight, ignored
    hours = fc.dark_hours(scenarios)
    assert [h for h in range(24) if not hours[h]] == [7] + day
    assert hours[6] and hours[17] and hours[0]
    # a split whose greenhouses without lamps are lit around the clock has no dark hour: refused
    try:
        fc.dark_hours([_scenario(0, False, list(range(24)))])
    except ValueError as e:
        assert "dark hour" in str(e)
    else:
        raise AssertionError("dark_hours accepted a split with no dark hour")


def _board_raises(meta, t, probs):
    """too_cold raises of the board's own alert engine fed one prediction per step."""
    engine = AlertEngine()
    engine.adopt_model(meta)
    out = []
    for i in range(len(t)):
        for ev in engine.update_model(int(t[i]), list(fc.LABELS), [float(v) for v in probs[i]],
                                      {"air_temp_c": 15.0}):
            if ev["event"] == "raise" and ev["type"] == "too_cold":
                out.append(i)
    return out


def test_the_board_raises_too_cold_only_in_the_dark_hours_and_the_rule_tuning_agrees():
    hours = [h < 7 or h >= 19 for h in range(24)]
    rule = (0.9, 3)
    meta = dict(fc.gate_meta(hours), alert_threshold=rule[0], alert_consecutive=rule[1], labels=list(fc.LABELS))
    t = np.arange(0, 2 * 86400, 300, dtype=np.int64) + 1767139200
    hour = (t // HOUR) % 24
    probs = np.tile([0.97, 0.01, 0.01, 0.01], (len(t), 1))
    cold = ((hour >= 10) & (hour < 12)) | ((hour >= 21) & (hour < 23))   # a cold spell by day and one at night
    probs[cold] = [0.02, 0.96, 0.01, 0.01]
    # the day's spell goes on past dusk: an alert the board holds back by day may come at 19:00
    probs[(t >= t[0] + 86400 + 15 * HOUR) & (t < t[0] + 86400 + 20 * HOUR)] = [0.02, 0.96, 0.01, 0.01]
    board = _board_raises(meta, t, probs)
    assert board, "no too_cold raise at night"
    assert all(not (7 <= hour[i] < 19) for i in board), [int(hour[i]) for i in board]
    assert any(hour[i] == 19 for i in board)   # raised once it was dark, not lost
    # without the gate the same predictions raise by day too
    ungated = _board_raises({"alert_threshold": rule[0], "alert_consecutive": rule[1]}, t, probs)
    assert any(7 <= hour[i] < 19 for i in ungated)
    # the training's fast state machine sees what the board does
    clear = report.firmware_alert_settings(*rule)["model_clear"]
    fast = sorted(r for c, r, _ in report.fast_alerts(t, fc.gated(t, probs, hours, clear), *rule) if c == COLD)
    assert fast == board
    assert fc.gated(t, probs, None, clear) is probs


def test_each_greenhouse_is_held_back_in_exactly_one_fold():
    folds = [[i for i in range(48) if fc.held_back(i, f)] for f in range(fc.FOLDS)]
    assert sorted(sum(folds, [])) == list(range(48))
    assert all(len(f) == 12 for f in folds)
    assert folds[3] == [i for i in range(48) if fc.held_back(i)]   # the default: the old held-back quarter


def _result(split, rows, healthy_weeks):
    return {"split": split, "faults": sum(1 for r in rows if r["fault"] != "none"),
            "alerted": sum(1 for r in rows if r["alerted"]), "healthy_weeks": healthy_weeks, "scenarios": rows}


def _row(index, fault, delay=None, claims=(), warnings=0, days=4):
    return {"index": index, "fault": fault, "alerted": delay is not None, "delay_min": delay,
            "false_claims": list(claims), "warnings": warnings, "days": days}


def test_dev_splits_are_pooled_not_averaged():
    a = _result("dev", [_row(0, "heating_failure", 10.0), _row(1, "none", claims=["model:too_cold@3.0h"],
                                                                warnings=1, days=7)], 2.0)
    b = _result("dev2", [_row(0, "heating_failure", 30.0), _row(1, "co2_dosing_off", 200.0),
                         _row(2, "spikes"), _row(3, "none", days=7)], 6.0)
    p = setmodels.pooled([a, b])
    assert (p["faults"], p["alerted"]) == (4, 3)
    assert p["median_delay_min"] == 30.0                      # over all three delays, not a mean of medians
    assert abs(p["false_alarms_per_week"] - 1 / 8.0) < 1e-9   # 1 claim in 8 healthy weeks (a split alone: 0.5)
    assert abs(p["healthy_warnings_per_week"] - 0.5) < 1e-9   # 1 warning in 2 healthy greenhouses' 2 weeks
    assert p["false_claims"] == ["dev:1:model:too_cold@3.0h"]


def test_a_model_quiet_on_dev_scenarios_but_loud_on_the_site_histories_is_not_shipped():
    loud = {"weeks": 109.7, "false_alarms": 26, "false_alarms_per_week": 0.237}
    ok, why = setmodels.histories_verdict(loud)
    assert not ok and "site histories" in why and "26 in 109.7 weeks" in why
    assert setmodels.histories_verdict({"weeks": 109.7, "false_alarms": 2, "false_alarms_per_week": 0.018})[0]
