"""host/scripts/site_healthy_check.py cuts a healthy greenhouse's CSV into the history the site
model learns from and the days it is judged on, at the day boundary."""
import os
import sys

from verdant_host import paths

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import site_healthy_check as shc  # noqa: E402


def test_rows_are_cut_at_the_history_days(tmp_path):
    t0 = 1767225600
    rows = ["%d,18.0,70.0,800,0," % (t0 + 3600 * h) for h in range(5 * 24)]
    path = tmp_path / "scenario.csv"
    path.write_text("timestamp_s,air_temp_c,rh_pct,co2_ppm,par_umol_m2_s,fault\n" + "\n".join(rows) + "\n")
    head, history, later = shc.split_rows(str(path), t0, 3)
    assert head.startswith("timestamp_s,")
    assert len(history) == 3 * 24 and len(later) == 2 * 24
    assert int(history[-1].split(",")[0]) < t0 + 3 * 86400 <= int(later[0].split(",")[0])
