"""The field scores count what the issue defines: a fault is alerted by a warning/critical
raise within its window + 30 min; a false alarm is an equipment/sensor claim outside every
fault window (before the fault); condition warnings on healthy greenhouses and info
advisories per day are counted apart; the baseline rings after 15 minutes."""
import numpy as np

from verdant_host import fieldeval

T0 = 1_760_000_000
H = 3600


def meta(index, fault="", start_h=0, end_h=0, days=2):
    return {"index": index, "fault": fault, "fault_start_s": start_h * H, "fault_end_s": end_h * H,
            "days": days, "t0_unix": T0}


def test_scoring_by_hand():
    scenarios = [meta(0, "heating_failure", 30, 36), meta(1, "spikes", 30, 32), meta(2)]
    alerts = {
        0: [(T0 + 31 * H, "cold_anomaly", "warning", "raise"),          # 60 min after the onset
            (T0 + 10 * H, "sensor_fault", "warning", "raise")],         # before the fault: a false claim
        1: [(T0 + 32 * H + 20 * 60, "sensor_fault", "warning", "raise"),  # within end + 30 min: 140 min
            (T0 + 5 * H, "vpd_low", "info", "raise")],                  # advice, not a detection
        2: [(T0 + 3 * H, "heat_stress", "warning", "raise"),            # a condition: not false, but a warning
            (T0 + 4 * H, "vpd_low", "info", "raise"), (T0 + 5 * H, "co2_low", "info", "raise"),
            (T0 + 7 * H, "too_cold", "warning", "raise"),               # a model claim on a healthy house
            (T0 + 8 * H, "too_cold", "warning", "clear")],
    }
    r = fieldeval.score(scenarios, lambda m: alerts[m["index"]])
    assert r["faults"] == 2 and r["alerted"] == 2
    assert r["median_delay_min"] == 100.0            # median of 60 and 140
    healthy_weeks = (30 * H + 30 * H + 2 * 86400) / (7 * 86400.0)
    assert abs(r["healthy_weeks"] - healthy_weeks) < 1e-9
    assert abs(r["false_alarms_per_week"] - 2 / healthy_weeks) < 1e-9   # sensor_fault@10h, too_cold@7h
    assert abs(r["healthy_warnings_per_week"] - 2 / (2 / 7.0)) < 1e-9   # heat_stress and too_cold
    assert r["max_info_per_day"] == 2


def test_a_models_condition_label_is_a_claim_a_rules_is_not():
    r = fieldeval.score([meta(0)], lambda m: [(T0 + 3 * H, "co2_low", "warning", "raise", "rule"),
                                              (T0 + 4 * H, "co2_low", "warning", "raise", "model")])
    assert abs(r["false_alarms_per_week"] * r["healthy_weeks"] - 1) < 1e-9


def test_a_raise_after_the_grace_period_is_a_miss():
    r = fieldeval.score([meta(0, "vent_stuck_open", 30, 31)],
                        lambda m: [(T0 + 31 * H + 31 * 60, "cold_anomaly", "warning", "raise")])
    assert r["alerted"] == 0 and r["median_delay_min"] is None


def test_baseline_rings_after_15_minutes_and_on_missing_data():
    t = T0 + 300 * np.arange(12)
    cols = {"timestamp_s": t, "air_temp_c": np.array([10, 7, 7, 7, 7, 10, 10, 10, 10, 10, 10, 10], float),
            "rh_pct": np.full(12, 70.0), "co2_ppm": np.array([800] * 8 + [np.nan] * 4, float)}
    got = fieldeval.baseline_alerts(cols)
    assert got == [(int(t[3]), "baseline_air_temp_c_below", "warning", "raise"),
                   (int(t[10]), "baseline_missing_co2_ppm", "warning", "raise")]


def test_each_split_has_its_own_report_block(tmp_path):
    report = tmp_path / "report.md"
    report.write_text("# Report\n\nintro\n\n%s\n## Field\n%s\nafter\n" % (fieldeval.BLOCK_START, fieldeval.BLOCK_END))
    r = fieldeval.score([meta(0, "heating_failure", 30, 36), meta(1)],
                        lambda m: [(T0 + 31 * H, "cold_anomaly", "warning", "raise")] if m["index"] == 0 else [])
    rows = [("firmware: rules", r), ("four-threshold baseline", r)]
    fieldeval.write_block(str(report), fieldeval.markdown_block(rows, "cmd test", "test"), "test")
    fieldeval.write_block(str(report), fieldeval.markdown_block(rows, "cmd dev", "dev"), "dev")
    fieldeval.write_block(str(report), fieldeval.markdown_block(rows, "cmd test again", "test"), "test")
    text = report.read_text()
    assert text.startswith("# Report\n\nintro\n") and text.endswith(fieldeval.BLOCK_END + "\nafter\n")
    assert text.index("field-eval:test:end") < text.index("field-eval:dev:start") < text.index(fieldeval.BLOCK_END)
    assert text.count("field-eval:test:start") == 1 and text.count("field-eval:dev:start") == 1
    assert "cmd test again" in text and "cmd test`" not in text and "cmd dev" in text
    assert "measured once at the end" in text and "optimistic" in text
    assert "| 0 | heating_failure | cold_anomaly, 60 min | cold_anomaly, 60 min | - |" in text


def test_histories_count_every_fault_claim_as_false_and_conditions_as_warnings(tmp_path):
    paths = []
    for i, hours in enumerate((48, 24)):
        path = tmp_path / ("site_%02d.csv" % i)
        rows = ["timestamp_s,air_temp_c"] + ["%d,20.0" % (T0 + 300 * k) for k in range(hours * 12)]
        path.write_text("\n".join(rows) + "\n")
        paths.append(str(path))
    alerts = {
        paths[0]: [(T0 + 5 * H, "cold_anomaly", "warning", "raise"),            # a claim on a healthy day
                   (T0 + 6 * H, "cold_anomaly", "warning", "clear"),
                   (T0 + 7 * H, "heat_stress", "warning", "raise", "rule"),     # a condition: a warning only
                   (T0 + 8 * H, "vpd_low", "info", "raise")],                   # advice: neither
        paths[1]: [(T0 + 2 * H, "co2_low", "warning", "raise", "model")],       # a model's co2_low is a claim
    }
    h = fieldeval.score_histories(paths, lambda p: alerts[p])
    assert abs(h["weeks"] - 3 / 7.0) < 1e-9
    assert h["false_alarms"] == 2 and h["warnings"] == 3
    assert h["false_claims"] == ["site_00.csv: cold_anomaly@5.0h", "site_01.csv: co2_low@2.0h"]
    line = fieldeval.histories_line(dict(h, greenhouses=2), "1-2")
    assert "2 false alarms (4.67 / week)" in line and "3 warnings (7.00 / week)" in line


def test_site_models_are_trained_only_for_the_scenarios_there_and_the_skipped_are_said(tmp_path, monkeypatch):
    from verdant_host import sitemodel
    scenarios_dir, site_dir = tmp_path / "scen", tmp_path / "site"
    scenarios_dir.mkdir()
    site_dir.mkdir()
    for i in (1, 3):
        (scenarios_dir / ("scenario_%02d.csv" % i)).write_text("timestamp_s\n")
    for i in (0, 1, 2):
        (site_dir / ("site_%02d.csv" % i)).write_text("timestamp_s\n")
    trained, said = [], []
    monkeypatch.setattr(sitemodel, "train_site", lambda history, out, progress=None: trained.append(history))
    models = fieldeval.site_models(str(site_dir), str(tmp_path / "out"), [meta(i) for i in range(4)],
                                   progress=said.append, scenario_folder=str(scenarios_dir))
    assert [p.rsplit("/", 1)[-1] for p in trained] == ["site_01.csv"]   # not 0 and 2: no scenario to score
    assert list(models) == [1]
    assert said[0].startswith("field-eval --site: 2 of 4 manifest entries have no scenario CSV in ")
    assert "(scenario_00.csv, scenario_02.csv): no site model trained for them" in said[0], said
    assert len(said) == 2 and "no history" in said[1] and "scenario 3 is left out" in said[1], said
