"""`verdant replay --format text` prints what `verdant monitor` would show."""
from verdant_host.cli import main

T0 = 1768867200


def test_replay_text_shows_the_monitor_view(tmp_path, capsys):
    csv = tmp_path / "frost.csv"
    rows = ["timestamp_s,air_temp_c,rh_pct"]
    for i in range(48):  # 4 h, 5-minute rows; frost from the second hour
        rows.append("%d,%s,80" % (T0 + 300 * i, "-1.5" if i >= 12 else "8"))
    csv.write_text("\n".join(rows) + "\n")
    assert main(["replay", str(csv), "--no-model", "--format", "text"]) in (0, None)
    out = capsys.readouterr().out.splitlines()
    frost = [line for line in out if " ALERT frost_risk [critical]" in line]
    assert len(frost) == 1 and frost[0].startswith("2026-01-20 01:")
    assert any("  reading  " in line and "air_temp_c=" in line for line in out)
    assert not any("lost" in line for line in out)  # every line goes through, no false gaps
    assert not any(line.startswith('{"v":') for line in out)
    assert main(["replay", str(csv), "--no-model"]) in (0, None)
    raw = capsys.readouterr().out.splitlines()
    assert raw and all(line.startswith('{"v":1') for line in raw)
