"""The heating survey (host/scripts/heating_signatures.py) replays the board's two cold checks on
arrays: on a made-up heating failure at dusk its night-hold and band-tier raises fall on the same
readings as the board's own verdant.normalband."""
import os
import sys

import numpy as np

from verdant.normalband import NormalBand
from verdant_host import paths, sitecontrol

sys.path.insert(0, os.path.join(paths.REPO_DIR, "host", "scripts"))
import heating_signatures as hs  # noqa: E402

STEP = 300
T0 = 1767225600


def greenhouse(days=3, fail=True):
    """22 C in light, 18.0-18.2 at night, lamps off at 18:00 with a plunge the heating catches;
    with fail: a cold night (night 1: 0.55 C/h down to 16.9 and back, the boiler barely holding)
    and on the last day the heater stops at 18:00, the air falling on at 3 C/h."""
    ts = T0 + STEP * np.arange(days * 288)
    k = (ts % 86400) // STEP
    lit = (k >= 7 * 12) & (k < 18 * 12)
    temp = np.where(lit, 22.0, 18.0 + 0.1 * (np.arange(ts.size) % 3))
    for j, v in enumerate((19.5, 17.8, 17.6, 17.7, 17.9)):
        temp[k == 18 * 12 + 1 + j] = v
    dusk = (days - 1) * 288 + 18 * 12
    if fail:
        spell = 288 + 3 * 12 + np.arange(48)
        temp[spell] = 18.0 - 0.55 * np.minimum(np.arange(48), 48 - np.arange(48)) / 12
        temp[dusk + 4:dusk + 40] = 17.6 - 0.25 * np.arange(1, 37)
    return {"ts": ts, "air_temp_c": temp, "par_umol_m2_s": np.where(lit, 300.0, 0.0)}, dusk


def board_raise(rows, hold):
    band = NormalBand()
    if hold is not None:
        band.adopt_night_hold(hold)
    for i in range(rows["ts"].size):
        row = {"air_temp_c": float(rows["air_temp_c"][i]), "par_umol_m2_s": float(rows["par_umol_m2_s"][i])}
        if any(e["event"] == "raise" for e in band.update(int(rows["ts"][i]), row)):
            return i
    return None


def test_the_survey_replays_the_board_checks():
    history, _ = greenhouse(days=4, fail=False)      # the site's fault-free days
    hold, _ = sitecontrol.night_hold(history["ts"], history)
    rows, dusk = greenhouse()
    assert hold == {"level_c": 18.0, "below_c": 0.9, "settled_below_c": 0.3}, hold
    settled = sitecontrol.settled_night(rows["ts"], rows["par_umol_m2_s"], rows["air_temp_c"], hold["level_c"])
    margin = np.where(settled, hold["settled_below_c"], hold["below_c"])
    band_up = rows["ts"] // 86400 > rows["ts"][0] // 86400
    night = int(np.argmax(band_up & (hs.night_dips(rows, hold["level_c"]) > margin)))
    tier = int(np.argmax(hs.band_tier(rows)))
    assert dusk < night < tier, (dusk, night, tier)
    assert board_raise(rows, hold) == night
    assert board_raise(rows, None) == tier
