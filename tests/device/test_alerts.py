# Alert engine: every rule type raises, holds, clears with hysteresis, does not flap
# on noisy input and is rate limited; model alerts debounce; sensor failure alerts.
from verdant.alerts import AlertEngine, AlertState, CountState
from verdant.rules import DEFAULT_RULES

STEP = 300


class Lcg:
    """Deterministic noise in [-1, 1) (no dependence on the port's random module)."""

    def __init__(self, seed):
        self.x = seed

    def next(self):
        self.x = (1103515245 * self.x + 12345) & 0x7FFFFFFF
        return self.x / 0x40000000 - 1.0


def run_series(engine, series, values, t0=1000):
    """Feed values (None = missing) for one series; returns [(t, event dict)]."""
    out = []
    for i, v in enumerate(values):
        t = t0 + STEP * i
        for ev in engine.update_rules(t, {series: v}):
            out.append((t, ev))
    return out


def bad_and_good(name):
    series, when, raise_at, clear_at = DEFAULT_RULES[name][:4]
    span = abs(clear_at - raise_at)
    if when == "below":
        return series, raise_at - span, clear_at + span, raise_at, clear_at
    return series, raise_at + span, clear_at - span, raise_at, clear_at


def steps(seconds):
    return seconds // STEP + 1  # samples needed to hold a condition `seconds` long


def test_every_rule_raises_after_its_duration_holds_and_clears():
    for name, fields in DEFAULT_RULES.items():
        series, bad, good, raise_at, clear_at = bad_and_good(name)
        raise_after, clear_after, severity = fields[4], fields[5], fields[6]
        engine = AlertEngine({"remind_s": 0})
        n_bad = steps(raise_after) + 20
        n_good = steps(clear_after) + 2
        events = [(t, e) for t, e in run_series(engine, series, [good] * 3 + [bad] * n_bad + [good] * n_good)
                  if e["type"] == name]
        kinds = [e["event"] for _, e in events]
        if severity == "info":  # advice: only the raise is sent
            assert kinds == ["raise"], (name, kinds)
        else:
            assert kinds == ["raise", "clear"], (name, kinds)
        t_raise, raise_ev = events[0]
        first_bad_t = 1000 + 3 * STEP
        assert t_raise - first_bad_t >= raise_after, name
        assert t_raise - first_bad_t < raise_after + STEP, name
        assert raise_ev["severity"] == severity and raise_ev["source"] == "rule"
        assert raise_ev["values"] == {series: bad} and raise_ev["threshold"] == raise_at
        first_good_t = first_bad_t + n_bad * STEP
        if severity == "info":
            assert name not in engine.active(), name  # the state cleared, silently
            continue
        assert events[1][0] - first_good_t >= clear_after, name
        assert events[1][1]["threshold"] == clear_at


def test_short_excursion_shorter_than_duration_does_not_raise():
    for name, fields in DEFAULT_RULES.items():
        series, bad, good = bad_and_good(name)[:3]
        if fields[4] < STEP:
            continue
        engine = AlertEngine()
        short = max(1, fields[4] // STEP)  # holds for less than raise_after_s
        values = ([good] * 2 + [bad] * short) * 6
        assert run_series(engine, series, values) == [], name


def test_hysteresis_value_between_thresholds_keeps_alert_active():
    engine = AlertEngine({"remind_s": 0})
    # frost: raise below 2.0, clear above 3.5; 3.0 is in between
    events = run_series(engine, "air_temp_c", [5.0] * 2 + [1.0] * 4 + [3.0] * 40)
    assert [e["event"] for _, e in events] == ["raise"]
    assert engine.active() == ["frost_risk"]


def test_noisy_signal_around_threshold_does_not_flap():
    noise = Lcg(7)
    for name in DEFAULT_RULES:
        series, bad, good, raise_at, clear_at = bad_and_good(name)
        engine = AlertEngine({"remind_s": 0})
        amplitude = abs(clear_at - raise_at) * 0.45
        values = [raise_at + amplitude * noise.next() for _ in range(2000)]  # hovers on the raise line
        events = [e["event"] for _, e in run_series(engine, series, values) if e["type"] == name]
        assert len(events) <= 2, (name, events)  # at most one raise and no clear while it hovers
        assert "clear" not in events, name


def test_flapping_condition_is_rate_limited_by_cooldown():
    engine = AlertEngine({"frost_risk": {"raise_after_s": 0, "clear_after_s": 0},
                          "cooldown_s": 3600, "remind_s": 0})
    values = [1.0, 5.0] * 40  # crosses both thresholds every sample for 400 min
    raises = [t for t, e in run_series(engine, "air_temp_c", values) if e["event"] == "raise"]
    assert len(raises) >= 2
    for a, b in zip(raises, raises[1:]):
        assert b - a >= 3600
    assert len(raises) <= 40 * 2 * STEP // 3600 + 1


def test_active_alert_reminds_at_remind_interval():
    engine = AlertEngine({"remind_s": 3600})
    events = run_series(engine, "air_temp_c", [0.0] * (steps(600) + 24))
    kinds = [e["event"] for _, e in events]
    assert kinds[0] == "raise" and kinds.count("remind") == 2


def test_missing_values_neither_raise_nor_clear():
    engine = AlertEngine({"remind_s": 0})
    events = run_series(engine, "air_temp_c", [0.0, None, 0.0, None, 0.0, None, 0.0] * 3)
    assert events == []  # never held 600 s without a gap
    events = run_series(engine, "air_temp_c", [0.0] * 5 + [None] * 30, t0=100000)
    assert [e["event"] for _, e in events] == ["raise"] and engine.active() == ["frost_risk"]


def test_vpd_rules_use_the_derived_series():
    engine = AlertEngine({"remind_s": 0})
    events = run_series(engine, "vpd_kpa", [2.5] * 10)
    assert [e["type"] for _, e in events] == ["vpd_high"]


def test_disabled_rule_and_override_threshold():
    engine = AlertEngine({"frost_risk": {"enabled": False}})
    assert run_series(engine, "air_temp_c", [-5.0] * 20) == []
    engine = AlertEngine({"co2_high": {"raise": 900.0, "clear": 800.0}})
    events = run_series(engine, "co2_ppm", [1000.0] * 10)
    assert [e["type"] for _, e in events] == ["co2_high"]


def test_sensor_failure_alert_raise_and_clear():
    engine = AlertEngine()
    ev = engine.update_sensors(10, {"sht31": {"state": "failed", "error": "OSError 19", "failures": 3},
                                    "bh1750": {"state": "ok"}})
    assert len(ev) == 1 and ev[0]["type"] == "sensor_failure" and ev[0]["event"] == "raise"
    assert "sht31" in ev[0]["reason"] and "OSError 19" in ev[0]["reason"]
    assert engine.update_sensors(20, {"sht31": {"state": "failed"}}) == []
    ev = engine.update_sensors(30, {"sht31": {"state": "degraded"}})
    assert [e["event"] for e in ev] == ["clear"]


def test_model_alert_needs_n_consecutive_and_ignores_normal():
    engine = AlertEngine({"model_consecutive": 3, "model_threshold": 0.8, "model_clear": 0.4, "remind_s": 0})
    labels = ["normal", "heating_failure"]
    seq = [0.9, 0.9, 0.3, 0.9, 0.9, 0.95, 0.85, 0.6, 0.6, 0.6, 0.3, 0.2, 0.35]
    out = []
    for i, p in enumerate(seq):
        for ev in engine.update_model(i * STEP, labels, [1 - p, p]):
            out.append((i, ev))
    assert [(i, e["event"]) for i, e in out] == [(5, "raise"), (12, "clear")]
    assert out[0][1]["type"] == "heating_failure" and out[0][1]["source"] == "model"
    assert out[0][1]["confidence"] == 0.95 and "p=0.95" in out[0][1]["reason"]


def test_model_alert_probabilities_must_match_labels():
    from mpytest import raises
    with raises(ValueError, "2 probabilities for 3 labels"):
        AlertEngine().update_model(0, ["a", "b", "c"], [0.5, 0.5])


def test_state_machines_directly():
    st = AlertState(raise_after_s=100, clear_after_s=50, cooldown_s=0)
    assert st.update(0, True, False) is None
    assert st.update(99, True, False) is None
    assert st.update(100, True, False) == "raise"
    assert st.update(120, False, True) is None
    assert st.update(170, False, True) == "clear"
    c = CountState(2)
    assert [c.update(i, d, not d) for i, d in enumerate([True, False, True, True, False, False])] == \
        [None, None, None, "raise", None, "clear"]


def test_remind_reason_tells_what_clears_it():
    engine = AlertEngine({"remind_s": 3600})
    events = run_series(engine, "rh_pct", [95.0] * 38 + [88.0] * 14)  # raises after 10800 s
    reminds = [e for _, e in events if e["event"] == "remind"]
    assert reminds and reminds[0]["reason"] == "still active: rh_pct 88, clears below 85"


def test_advice_is_sent_once_per_type_per_day_and_capped_per_day():
    engine = AlertEngine({"remind_s": 3600, "cooldown_s": 0})
    day = 86400 // STEP
    # vpd low for 2 h, fine for 1 h, again: three episodes a day for two days
    values = ([0.1] * 24 + [0.6] * 12) * (2 * day // 36)
    events = run_series(engine, "vpd_kpa", values)
    sent = [(t, e["event"]) for t, e in events]
    assert [k for _, k in sent] == ["raise", "raise"], sent   # no clears, no reminders
    assert sent[1][0] - sent[0][0] >= 86400
    # a second advice type on the same day waits: one advisory per day in all
    engine = AlertEngine({"remind_s": 0})
    out = []
    for i in range(2 * day):
        row = {"vpd_kpa": 0.1, "co2_ppm": 200.0}
        out += [(1000 + STEP * i, e["type"]) for e in engine.update_rules(1000 + STEP * i, row)]
    assert [typ for _, typ in out] == ["co2_low", "vpd_low"], out  # co2_low holds 30 min, vpd_low 1 h
    assert out[1][0] - out[0][0] >= 86400
    assert "co2_low" in engine.active() and "vpd_low" in engine.active()
    engine = AlertEngine({"advisories_per_day": 2, "remind_s": 0})
    out = [e["type"] for i in range(day) for e in engine.update_rules(1000 + STEP * i, {"vpd_kpa": 0.1, "co2_ppm": 200.0})]
    assert sorted(out) == ["co2_low", "vpd_low"]


def test_flapping_model_and_sensor_alerts_are_rate_limited_too():
    engine = AlertEngine({"model_consecutive": 2, "cooldown_s": 3600, "remind_s": 0})
    raises = []
    for i in range(48):  # 4 h of 5-min predictions alternating 2 high, 2 low
        p = 0.9 if (i // 2) % 2 == 0 else 0.1
        for ev in engine.update_model(i * STEP, ["normal", "vent_stuck_open"], [1 - p, p]):
            if ev["event"] == "raise":
                raises.append(i * STEP)
    assert len(raises) >= 2
    for a, b in zip(raises, raises[1:]):
        assert b - a >= 3600
    sensor_raises = []
    for i in range(48):
        state = "failed" if i % 2 == 0 else "ok"
        for ev in engine.update_sensors(i * STEP, {"scd41": {"state": state}}):
            if ev["event"] == "raise":
                sensor_raises.append(i * STEP)
    assert 2 <= len(sensor_raises) <= 4


def test_safe_mode_engine_runs_the_rules_without_the_detectors():
    engine = AlertEngine({"remind_s": 0}, detectors=False)
    assert engine.faults is None and engine.band is None
    assert engine.update_faults(1000, {"air_temp_c": 4.0}, {}) == []
    events = run_series(engine, "air_temp_c", [1.0] * 5)
    assert [e["type"] for _, e in events] == ["frost_risk"] and engine.active() == ["frost_risk"]


def test_unusual_while_a_model_or_band_alert_is_active_not_for_a_rule():
    engine = AlertEngine({"remind_s": 0, "model_consecutive": 2})
    assert not engine.unusual()
    engine.update_rules(0, {"air_temp_c": -3.0})
    engine.update_rules(3600, {"air_temp_c": -3.0})  # frost: a condition of the weather, not a fault
    assert "frost_risk" in engine.active() and not engine.unusual()
    for i in range(2):
        engine.update_model(7200 + i * STEP, ["normal", "too_cold"], [0.0, 1.0])
    assert engine.unusual()
    for i in range(4):
        engine.update_model(9000 + i * STEP, ["normal", "too_cold"], [1.0, 0.0])
    assert "too_cold" not in engine.active() and not engine.unusual()
    engine.band.active["cold_anomaly"] = 1   # what NormalBand.update keeps while it warns
    assert engine.unusual()


def _gated_engine():
    engine = AlertEngine()
    low = [15.0] * 24
    low[9] = 19.0   # 9 h: the history never had the air below 19 C
    meta = {"alert_threshold": 0.5, "alert_consecutive": 2, "labels": ["temp_drop_30m", "co2_rise_10m"],
            "levels": {"air_temp_c": {"low": low, "high": [30.0] * 24},
                       "co2_ppm": {"low": [300.0] * 24, "high": [900.0] * 24}},
            "label_gates": {"temp_drop_30m": ["air_temp_c", "below"], "co2_rise_10m": ["co2_ppm", "above"]}}
    engine.adopt_model(meta)
    # the limits are kept as float arrays, in place of the parsed lists (no float objects kept)
    assert not isinstance(meta["levels"]["air_temp_c"]["low"], list)
    assert meta["levels"]["air_temp_c"]["low"][9] == 19.0
    engine.adopt_model(meta)   # adopting the same model again (a clock set back) keeps working
    return engine


def _raises(engine, t0, rows, p=0.9):
    out = []
    for i, row in enumerate(rows):
        for ev in engine.update_model(t0 + i * STEP, ["temp_drop_30m", "co2_rise_10m"], [p, p], row):
            out.append((i, ev["type"], ev["event"]))
    return out


def test_a_site_label_alerts_only_beyond_the_hours_usual_range():
    nine = 86400 * 10 + 9 * 3600
    # a fast drop back into the usual range (19.6 C at 9 h, the usual low 19) and CO2 inside its range: nothing
    assert _raises(_gated_engine(), nine, [{"air_temp_c": 19.6, "co2_ppm": 800.0}] * 4) == []
    # below the hour's low, and CO2 above the range: both raise after two predictions
    got = _raises(_gated_engine(), nine, [{"air_temp_c": 18.5, "co2_ppm": 1200.0}] * 4)
    assert got == [(1, "temp_drop_30m", "raise"), (1, "co2_rise_10m", "raise")], got
    # the same 18.5 C at 3 h is inside that hour's range (low 15)
    assert _raises(_gated_engine(), nine - 6 * 3600, [{"air_temp_c": 18.5, "co2_ppm": 800.0}] * 4) == []
    # no reading: no evidence
    assert _raises(_gated_engine(), nine, [{"co2_ppm": 800.0}] * 4) == []
    # a model without gates alerts on p alone
    engine = AlertEngine()
    engine.adopt_model({"alert_threshold": 0.5, "alert_consecutive": 2})
    assert [e[2] for e in _raises(engine, nine, [{"air_temp_c": 19.6}] * 3)] == ["raise", "raise"]


def test_site_gates_metadata_is_checked():
    from verdant.modelmeta import check_meta
    def fresh():
        return {"labels": ["temp_drop_30m"], "levels": {"air_temp_c": {"low": [1.0] * 24, "high": [2.0] * 24}},
                "label_gates": {"temp_drop_30m": ["air_temp_c", "below"]}}
    good = fresh()
    check_meta(good)
    check_meta(dict(fresh(), co2_hold={"set_ppm": 800.0, "below_ppm": 30.0}))
    engine = AlertEngine()
    engine.adopt_model(dict(fresh(), co2_hold={"set_ppm": 800.0, "below_ppm": 30.0}))
    assert engine.band.co2_hold == (800.0, 30.0)
    for change, word in ((("levels", {"air_temp_c": {"low": [1.0] * 23, "high": [2.0] * 24}}), "levels.air_temp_c.low"),
                         (("label_gates", {"temp_drop_30m": ["co2_ppm", "below"]}), "label_gates.temp_drop_30m"),
                         (("label_gates", {"temp_drop_30m": ["air_temp_c", "under"]}), "label_gates.temp_drop_30m"),
                         (("label_gates", {"rh_drop_30m": ["air_temp_c", "below"]}), "not one of the model's labels"),
                         (("co2_hold", {"set_ppm": 800, "below_ppm": 0}), "co2_hold"),
                         (("co2_hold", {"set_ppm": 800}), "co2_hold")):
        meta = dict(good)
        meta[change[0]] = change[1]
        try:
            check_meta(meta)
        except ValueError as exc:
            assert word in str(exc), exc
        else:
            raise AssertionError("accepted %r" % (change,))
