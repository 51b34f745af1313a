# The normal band's alert texts: made only when an alert raises (update() carries the values,
# not a string per reading), they must read as before for each kind of raise, and every event
# carries a text, never the values it was made from.
import re

from test_nighthold import HOLD, PER_DAY, PLUNGE, STEP, T0, days
from verdant.normalband import NormalBand


def events(rows, hold=None):
    band = NormalBand()
    if hold is not None:
        band.adopt_night_hold(hold)
    return [e for i, row in enumerate(rows) for e in band.update(T0 + STEP * i, row)]


def heater_stops_at_dusk():
    rows = days(3)
    dusk = 2 * PER_DAY + 18 * 12
    for k in range(36):
        rows[dusk + 1 + k]["air_temp_c"] = PLUNGE[k] if k < 3 else PLUNGE[2] - 0.25 * (k - 2)
    return rows


def raised(evs, typ):
    return [e["reason"] for e in evs if e["event"] == "raise" and e["type"] == typ]


def test_every_band_event_carries_a_text():
    rows = heater_stops_at_dusk()
    for k in range(3 * 12):  # and a hot spell at noon on day 3: the highest any hour was 22.0
        rows[2 * PER_DAY + 12 * 12 + k]["air_temp_c"] = 30.0
    for hold in (None, HOLD):
        evs = events(rows, hold)
        assert {e["event"] for e in evs} >= {"raise", "clear"}, evs
        for e in evs:
            assert isinstance(e["reason"], str) and e["reason"], e


def test_night_hold_raise_reads_level_gap_and_fall():
    # k = 6 after dusk: 17.6 - 0.25 * 4 = 16.6, 1.4 under the 18.0 the heating holds; falling
    # 0.25 C per 5-minute step: 3.0 C/h
    first = raised(events(heater_stops_at_dusk(), HOLD), "cold_anomaly")[0]
    assert first == ("air_temp_c 16.6 is 1.4 below 18.0, the level the heating holds at night, and still "
                     "falling 3.0 per hour: heating failure or vents stuck open?"), first


def test_band_low_raise_reads_gap_lowest_and_trend():
    # without the hold: the early tier under the cold night's lowest (18.0 - 0.55 * 2 = 16.9),
    # k = 9: 17.6 - 0.25 * 7 = 15.85 (15.9 printed), 1.0 under it, moving -3.0 C/h
    first = raised(events(heater_stops_at_dusk()), "cold_anomaly")[0]
    assert re.match(r"air_temp_c 15\.[89] is 1\.[01] below 16\.9, the lowest at any hour on the last 2 days and "
                    r"moving -3\.0 per hour: heating failure or vents stuck open\?$", first), first


def test_band_high_raise_reads_gap_and_highest():
    rows = days(3, cold_night=False)
    for k in range(3 * 12):  # 30 C at noon on day 3; the highest any hour on days 1-2: 22.0 in light
        rows[2 * PER_DAY + 12 * 12 + k]["air_temp_c"] = 30.0
    first = raised(events(rows), "heat_anomaly")[0]
    assert first == ("air_temp_c 30.0 is 8.0 above 22.0, the highest at any hour on the last 2 days: "
                     "vents stuck closed or heating stuck on?"), first
