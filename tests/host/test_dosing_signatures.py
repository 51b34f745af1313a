"""The dosing-off survey (host/scripts/dosing_signatures.py) measures the board's own
held-then-dropped check: on a made-up greenhouse it reports the depth under the held level the
board's NormalBand sees, none on a healthy one, and it never reads a test split."""
import os
import sys

import pytest

from verdant_host import paths

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import dosing_signatures as ds  # noqa: E402

STEP = 300
T0 = 1767225600
PER_DAY = 86400 // STEP


def write(path, fall_at=None):
    """3 days: light 07:00-19:00 with CO2 held at 800 (+-1), 500 at night; with fall_at (a row
    index) CO2 falls 15 ppm per reading from there for 2 hours."""
    with open(path, "w") as f:
        f.write("timestamp_s,air_temp_c,rh_pct,co2_ppm,par_umol_m2_s,fault\n")
        for i in range(3 * PER_DAY):
            day = 7 * 12 <= i % PER_DAY < 19 * 12
            co2 = (800.0 if day else 500.0) + (i % 2)
            if fall_at is not None and fall_at <= i < fall_at + 24:
                co2 = 800.0 - 15.0 * (i - fall_at)
            f.write("%d,%.1f,75.0,%.0f,%.0f,\n" % (T0 + STEP * i, 22.0 if day else 18.0, co2, 300.0 if day else 0.0))


def test_the_survey_measures_the_depth_the_board_judges(tmp_path):
    start = 2 * PER_DAY + 9 * 12
    write(tmp_path / "fall.csv", fall_at=start)
    got = dict(ds.drops(str(tmp_path / "fall.csv")))
    # k = 4 after the fall starts: the median of 770, 755, 740 is 755, 45 under the held 800
    assert got[T0 + STEP * (start + 4)] == pytest.approx(45.0)
    assert all(t >= T0 + STEP * start for t in got)   # under this hour's lowest only once it falls
    write(tmp_path / "calm.csv")
    assert ds.drops(str(tmp_path / "calm.csv")) == []


def test_the_survey_refuses_a_test_split(tmp_path):
    with pytest.raises(SystemExit):
        ds.main(["--data", str(tmp_path / "test")])
