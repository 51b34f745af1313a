"""Replay: CSV parsing with bad rows reported by line, and the firmware's own alerts."""
import os

import pytest

from verdant.protocol import decode
from verdant_host import cli, greenhouse as g, replay

HOUR = 3600


def csv_lines(rows, header="timestamp_s,air_temp_c,rh_pct,label"):
    return [header] + rows


def test_bad_rows_are_reported_with_their_line_number_and_skipped():
    problems = []
    rows = list(replay.read_rows(csv_lines([
        "1000,20.0,60,normal",       # line 2
        "abc,20.0,60,normal",        # line 3
        "1300,hot,60,normal",        # line 4
        "1300,21.5,,normal",         # line 5: empty RH = missing
        "1200,21.0,60,normal",       # line 6: goes back in time
        "1330,21.0,60,normal",       # line 7: 30 s after the previous row
        "1600,21.0,60",              # line 8: a cell short
        "1900,NaN,61.5,normal",      # line 9
        "2200.5,20,60,normal",       # line 10
    ]), problems))
    assert problems == [
        "line 3: timestamp_s 'abc' is not a number",
        "line 4: air_temp_c 'hot' is not a number",
        "line 6: timestamp_s 1200 is not after the previous row's 1300",
        "line 7: timestamp_s 1330 is only 30 s after the previous row (rows must be 1-15 minutes apart)",
        "line 8: 3 cells, the header has 4",
        "line 10: timestamp_s '2200.5' is not a whole number of seconds >= 0",
    ]
    assert [(line, t) for line, t, _ in rows] == [(2, 1000), (5, 1300), (9, 1900)]
    assert rows[1][2] == {"air_temp_c": 21.5, "rh_pct": None}
    assert rows[2][2] == {"air_temp_c": None, "rh_pct": 61.5}


def test_header_problems_stop_the_replay_with_a_clear_error():
    with pytest.raises(replay.VerdantError, match="^the CSV header has no timestamp_s column \\(got time, air_temp_c\\)$"):
        list(replay.read_rows(["time,air_temp_c", "1,2"], []))
    with pytest.raises(replay.VerdantError, match="^the CSV has no sensor column"):
        list(replay.read_rows(["timestamp_s,label", "1,x"], []))
    with pytest.raises(replay.VerdantError, match="^the CSV is empty"):
        list(replay.read_rows([], []))


def write_scenario(path, events, days=2.0, doy=20):
    sc = g.Scenario(seed=2, days=days, start_doy=doy, events=events)  # a cold spell: -7 C outside
    g.write_csv(str(path), g.simulate(sc).sample(300))
    return sc


def test_rules_only_replay_raises_and_clears_frost_risk_during_a_heating_failure(tmp_path):
    path = tmp_path / "week.csv"
    sc = write_scenario(path, [g.Event(g.HEATING_FAILURE, 20 * HOUR, 8 * HOUR)])
    lines, problems = replay.replay_file(str(path), board="sim", model=None)
    assert problems == []
    alerts = [decode(line)[0] for line in lines]
    assert all(a is not None and a["k"] == "alert" for a in alerts)
    frost = [(a["t"] - sc.start_timestamp_s, a["p"]["event"]) for a in alerts if a["p"]["type"] == "frost_risk"]
    assert frost and frost[0][1] == "raise" and 20 * HOUR < frost[0][0] < 28 * HOUR
    assert ("clear" in [e for _, e in frost])


def test_replay_with_the_model_warns_of_a_heating_failure_before_the_frost_rule(tmp_path):
    model = replay.DEFAULT_MODEL
    if not os.path.exists(model):
        pytest.skip("no committed default model at %s (run `make train`)" % model)
    path = tmp_path / "night.csv"
    sc = write_scenario(path, [g.Event(g.HEATING_FAILURE, 20 * HOUR, 8 * HOUR)])
    lines, _ = replay.replay_file(str(path), board="sim")
    raised = {}
    for line in lines:
        p = decode(line)[0]["p"]
        if p["event"] == "raise":
            raised.setdefault((p["source"], p["type"]), decode(line)[0]["t"] - sc.start_timestamp_s)
    model_t = raised.get(("model", g.HEATING_FAILURE))
    assert model_t is not None and 20 * HOUR <= model_t < 22 * HOUR
    assert model_t < raised[("rule", "frost_risk")]


def test_cli_prints_problems_and_alerts(tmp_path, capsys):
    path = tmp_path / "short.csv"
    write_scenario(path, [g.Event(g.HEATING_FAILURE, 20 * HOUR, 8 * HOUR)], days=1.5)
    with open(path) as f:
        text = f.read().splitlines()
    text.insert(17, "abc" + text[17][text[17].index(","):])  # becomes line 18 of the file
    path.write_text("\n".join(text) + "\n")
    assert cli.main(["replay", str(path), "--board", "sim", "--no-model"]) == 0
    out, err = capsys.readouterr()
    assert "line 18: timestamp_s 'abc' is not a number\n" in err
    assert err.rstrip().endswith("1 bad rows skipped")
    assert out and all(decode(line)[0]["k"] == "alert" for line in out.splitlines())


def test_cli_errors_name_the_problem(tmp_path, capsys):
    missing = tmp_path / "nope.csv"
    assert cli.main(["replay", str(missing)]) == 1
    assert capsys.readouterr().err == "verdant: cannot read %s: No such file or directory\n" % missing
    path = tmp_path / "ok.csv"
    path.write_text("timestamp_s,air_temp_c\n1000,20\n")
    assert cli.main(["replay", str(path), "--board", "toaster"]) == 1
    assert capsys.readouterr().err.startswith("verdant: unknown board 'toaster'; known boards: ")
    assert cli.main(["replay", str(path), "--model", str(tmp_path / "m.bin")]) == 1
    assert capsys.readouterr().err.startswith("verdant: cannot read model %s" % (tmp_path / "m.bin"))
    path.write_text("timestamp_s,air_temp_c\nx,20\n")
    assert cli.main(["replay", str(path), "--no-model"]) == 1
    assert capsys.readouterr().err == "verdant: no usable rows in the CSV; line 2: timestamp_s 'x' is not a number\n"


@pytest.mark.parametrize("spacing_s", [60, 900])
def test_model_runs_at_both_ends_of_the_allowed_sample_spacing(tmp_path, spacing_s):
    if not os.path.exists(replay.DEFAULT_MODEL):
        pytest.skip("no committed default model at %s (run `make train`)" % replay.DEFAULT_MODEL)
    path = tmp_path / "spacing.csv"
    sc = g.Scenario(seed=2, days=1.5, start_doy=20, events=[g.Event(g.HEATING_FAILURE, 20 * HOUR, 8 * HOUR)])
    g.write_csv(str(path), g.simulate(sc).sample(spacing_s))
    lines, problems = replay.replay_file(str(path), board="sim", kinds=None)
    assert problems == []
    messages = [decode(line)[0] for line in lines]
    assert any(m["k"] == "status" and m["p"].get("model") == "on" for m in messages)
    model_raises = [m["t"] - sc.start_timestamp_s for m in messages if m["k"] == "alert"
                    and m["p"]["source"] == "model" and m["p"]["event"] == "raise"
                    and m["p"]["type"] == g.HEATING_FAILURE]
    assert model_raises and 20 * HOUR <= model_raises[0] < 22 * HOUR


def test_a_flash_log_read_back_from_a_board_replays_like_the_readings(tmp_path):
    """The flash log's CSV (verdant.flashlog, what pull-logs returns) is a replay CSV."""
    from verdant import flashlog
    sc = g.Scenario(seed=2, days=1.5, start_doy=20, events=[g.Event(g.HEATING_FAILURE, 20 * HOUR, 8 * HOUR)])
    cols = g.simulate(sc).sample(900)
    log_path = str(tmp_path / "verdant.log")
    log = flashlog.FlashLog(log_path, capacity=500)
    for i, t in enumerate(cols["timestamp_s"].tolist()):
        log.append(t, {q: float(cols[q][i]) for q in g.QUANTITIES}, 0)
    with open(log_path, "rb") as f:
        records, _bad = flashlog.read_log(f.read())
    from_log, problems = replay.replay(flashlog.records_to_csv(records).splitlines(), model=None)
    direct = tmp_path / "direct.csv"
    g.write_csv(str(direct), cols)
    from_csv, _ = replay.replay_file(str(direct), model=None)
    assert problems == []
    assert from_log, "the heating failure raises rule alerts"
    assert [decode(line)[0]["p"]["type"] for line in from_log] == [decode(line)[0]["p"]["type"] for line in from_csv]
