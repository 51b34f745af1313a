# Sun gates: verdant.sun against facts that do not come from its formulas (almanac sunrise
# and sunset, equinox day length, polar night and midnight sun, the equation of time), a
# model's sun gates in the alert engine (a board at 52 N in June), the fallback of a board
# without a place, and bad places and bad sun gates refused naming the key.
from mpytest import raises
from verdant.alerts import AlertEngine
from verdant.hal import FIRMWARE_EPOCH
from verdant.sun import SUN_UP_DEG, sun_elevation_deg, sun_up

DAY = 86400
# Unix times of 00:00 UTC (days since 1970-01-01 x 86400)
MAR20_2025 = 20167 * DAY
JUN21_2025 = 20260 * DAY
NOV03_2025 = 20395 * DAY
DEC21_2025 = 20443 * DAY
FEB11_2026 = 20495 * DAY
JUN21_2026 = 20625 * DAY


def _rise_set(day0, lat, lon):
    """(sunrise, sunset) in minutes after 00:00 UTC of the day, searched minute by minute."""
    rise = set_ = None
    up = sun_up(day0, lat, lon)
    for m in range(1, 1441):
        now = sun_up(day0 + 60 * m, lat, lon)
        if now and not up and rise is None:
            rise = m
        if up and not now:
            set_ = m
        up = now
    return rise, set_


def test_sunrise_and_sunset_match_the_almanac_at_amsterdam():
    # almanac times for Amsterdam (52.37 N, 4.90 E): 21 June 05:18 / 22:06 CEST, 21 Dec 08:48 / 16:29 CET
    for day0, rise, set_ in ((JUN21_2025, 3 * 60 + 18, 20 * 60 + 6), (DEC21_2025, 7 * 60 + 48, 15 * 60 + 29)):
        got = _rise_set(day0, 52.37, 4.90)
        assert abs(got[0] - rise) <= 3 and abs(got[1] - set_) <= 3, (got, rise, set_)


def test_equinox_day_is_twelve_hours_everywhere():
    # at the equinox the sun's centre is up 12 h at any latitude; the -0.833 deg of the disc and
    # the refraction add a few minutes (more away from the equator)
    for lat, lon in ((0.0, 0.0), (40.4, -3.7), (52.0, 4.5), (-33.9, 151.2)):
        rise, set_ = _rise_set(MAR20_2025 - int(lon * 240), lat, lon)  # the local day
        length = set_ - rise
        assert 12 * 60 <= length <= 12 * 60 + 20, (lat, length)


def test_polar_night_and_midnight_sun_at_70_north():
    # noon elevation = 90 - latitude + declination (-23.44 at the December solstice)
    highest = max(sun_elevation_deg(DEC21_2025 + 600 * i, 70.0, 0.0) for i in range(144))
    assert abs(highest - (90 - 70 - 23.44)) < 0.2, highest
    assert not any(sun_up(DEC21_2025 + 600 * i, 70.0, 0.0) for i in range(144))
    # midnight elevation in June = latitude + declination - 90
    lowest = min(sun_elevation_deg(JUN21_2025 + 600 * i, 70.0, 0.0) for i in range(144))
    assert abs(lowest - (70 + 23.44 - 90)) < 0.2, lowest
    assert all(sun_up(JUN21_2025 + 600 * i, 70.0, 0.0) for i in range(144))


def test_solar_noon_at_greenwich_follows_the_equation_of_time():
    # the sun culminates ~16.4 min before 12:00 UTC early in November and ~14.2 min after it mid February
    for day0, noon_min in ((NOV03_2025, 12 * 60 - 16.4), (FEB11_2026, 12 * 60 + 14.2)):
        best = max(range(11 * 120, 13 * 120), key=lambda k: sun_elevation_deg(day0 + 30 * k, 45.0, 0.0)) / 2.0
        assert abs(best - noon_min) <= 1.5, (best, noon_min)


def test_firmware_seconds_give_the_same_sun():
    t = JUN21_2026 + 19 * 3600
    assert abs(sun_elevation_deg(t - FIRMWARE_EPOCH, 52.0, 4.5, FIRMWARE_EPOCH)
               - sun_elevation_deg(t, 52.0, 4.5)) < 1e-6
    assert SUN_UP_DEG < 0


# ---- a model's sun gates on the board --------------------------------------------------

GATE_OPEN, GATE_SHUT = 1.0e6, -1.0e6
DARK_HOURS = (0, 1, 2, 3, 4, 5, 6, 19, 20, 21, 22, 23)   # the training site's winter nights (UTC)
LABELS = ["normal", "too_cold", "co2_low", "co2_high"]


def _set_model_meta():
    """A set model's gates as setmodels writes them: sun gates, and the clock hours as fallback."""
    dark = [GATE_OPEN if h in DARK_HOURS else GATE_SHUT for h in range(24)]
    day = [GATE_SHUT if h in DARK_HOURS else GATE_OPEN for h in range(24)]
    return {"labels": list(LABELS), "alert_threshold": 0.5, "alert_consecutive": 2,
            "levels": {"air_temp_c": {"low": dark, "high": [GATE_OPEN] * 24},
                       "co2_ppm": {"low": day, "high": [GATE_OPEN] * 24}},
            "label_gates": {"too_cold": ["air_temp_c", "below"], "co2_low": ["co2_ppm", "below"]},
            "sun_gates": {"too_cold": "down", "co2_low": "up"}}


def _raised(site, hour_utc, label):
    """Does `label` (p 0.9 for four predictions 5 min apart from hour_utc on 21 June 2026) raise?"""
    engine = AlertEngine(site=site)
    meta = _set_model_meta()
    from verdant.modelmeta import check_meta
    check_meta(meta)
    engine.adopt_model(meta)
    t0 = JUN21_2026 + int(hour_utc * 3600) - FIRMWARE_EPOCH
    probs = [0.9 if name == label else 0.0 for name in LABELS]
    row = {"air_temp_c": 14.0, "co2_ppm": 380.0}
    for i in range(4):
        for ev in engine.update_model(t0 + 300 * i, LABELS, probs, row):
            if ev["event"] == "raise":
                return True
    return False


def test_sun_gates_follow_the_june_sun_at_52_north():
    site = (52.0, 4.5)   # sunset ~20:05 UTC on 21 June
    assert sun_up(JUN21_2026 + 19 * 3600 + 1800, 52.0, 4.5) and not sun_up(JUN21_2026 + 23 * 3600, 52.0, 4.5)
    assert not _raised(site, 19.0, "too_cold")    # 19:00-19:15 UTC, sunlit: a dull evening, no heating failure
    assert not _raised(site, 19.75, "too_cold")
    assert _raised(site, 23.0, "too_cold")        # 23:00, dark: the heating must hold the air
    assert _raised(site, 19.0, "co2_low")         # dosing hours while the sun is up
    assert not _raised(site, 23.0, "co2_low")     # nobody doses CO2 in the dark
    assert AlertEngine(site=site).gates_note() is None      # no model: nothing to say
    engine = AlertEngine(site=site)
    engine.adopt_model(_set_model_meta())
    assert engine.gates_note() == "sun at 52.00, 4.50", engine.gates_note()


def test_a_board_without_a_place_falls_back_to_the_clock_hours_and_says_so():
    # 19:00 UTC is one of the training site's dark hours: judged so even in the June sun
    assert _raised(None, 19.0, "too_cold")
    assert not _raised(None, 12.0, "too_cold")
    assert _raised(None, 12.0, "co2_low") and not _raised(None, 23.0, "co2_low")
    engine = AlertEngine()
    engine.adopt_model(_set_model_meta())
    note = engine.gates_note()
    assert "clock hours of the training site" in note and "latitude_deg" in note, note
    engine.adopt_model({"labels": list(LABELS)})   # a model without sun gates: nothing to say
    assert engine.gates_note() is None


def test_bad_sun_gates_are_refused_naming_the_label():
    from verdant.modelmeta import check_meta
    for gates, word in (({"too_cold": "night"}, "sun_gates.too_cold"), ({"too_cold": True}, "sun_gates.too_cold"),
                        ({"too_warm": "down"}, "not one of the model's labels"), (["too_cold"], "sun_gates")):
        meta = dict(_set_model_meta(), sun_gates=gates)
        with raises(ValueError) as err:
            check_meta(meta)
        assert word in str(err.value), err.value


def test_the_place_is_checked_naming_the_key():
    from verdant.board import BoardConfigError, load_board
    from verdant.settings import merge
    board = load_board("../../boards/sim.json")
    for change, key in (({"latitude_deg": 95.0, "longitude_deg": 4.5}, "latitude_deg"),
                        ({"latitude_deg": 52.0, "longitude_deg": 181}, "longitude_deg"),
                        ({"latitude_deg": "52N", "longitude_deg": 4.5}, "latitude_deg"),
                        ({"latitude_deg": 52.0}, "longitude_deg")):
        with raises(BoardConfigError) as err:
            load_board(dict(board, **change), source="boards/sim.json")
        assert ("boards/sim.json: " + key) in str(err.value), err.value
        settings, _, problems = merge(change, board)
        assert settings["latitude_deg"] is None and settings["longitude_deg"] is None, settings
        assert len(problems) == 1 and key in problems[0], problems
    placed = load_board(dict(board, latitude_deg=-33.9, longitude_deg=151.2))
    settings, _, problems = merge(None, placed)
    assert (settings["latitude_deg"], settings["longitude_deg"], problems) == (-33.9, 151.2, [])
    # config.json's place wins over the board's
    settings, _, problems = merge({"latitude_deg": 40.4, "longitude_deg": -3.7}, placed)
    assert (settings["latitude_deg"], settings["longitude_deg"], problems) == (40.4, -3.7, [])
    assert merge(None, board)[0]["latitude_deg"] is None


def test_the_board_says_what_its_sun_gates_follow():
    from verdant import app as appmod
    from appfakes import Hal, Truth, decode_all, fake_load, make_sensors, model_bytes, MemStat, HOUR
    from memfs import MemFS

    def gates_lines(board, settings, **extra):
        hal = Hal()
        fs = MemFS({"model.bin": bytearray(model_bytes(window=3, **extra))})
        application = appmod.App(hal, board, sensors=make_sensors(hal, Truth()), engine_loader=fake_load,
                                 opener=fs.open, stat=MemStat(fs), settings=settings)
        application.boot_status()
        application.load_model()
        application.run(2 * HOUR)
        lines = [m for m in decode_all(hal) if m["k"] == "status"]
        return application, [m["p"]["gates"] for m in lines if "gates" in m["p"]]

    board = {"name": "fake", "watchdog_timeout_ms": 8000, "sleep_mode": "none"}
    settings = {"log_records": 500, "heartbeat_s": 3600}
    sun = {"sun_gates": {"cooling": "down"}}
    application, said = gates_lines(board, settings, **sun)
    assert application.alerts.site is None
    assert len(said) >= 2 and all("clock hours of the training site" in s for s in said), said  # adopt + heartbeat
    application, said = gates_lines(dict(board, latitude_deg=52.0, longitude_deg=4.5), settings, **sun)
    assert application.alerts.site == (52.0, 4.5)
    assert said and all(s == "sun at 52.00, 4.50" for s in said), said
    _, said = gates_lines(board, dict(settings, latitude_deg=95.0, longitude_deg=4.5), **sun)
    assert said and "clock hours" in said[0]
    _, said = gates_lines(board, settings)   # a model without sun gates: nothing said
    assert said == []


def test_the_board_works_the_sun_out_once_a_day_not_per_prediction():
    import gc
    engine = AlertEngine(site=(52.0, 4.5), detectors=False)
    engine.adopt_model(_set_model_meta())
    t0 = JUN21_2026 + 10 * 3600 - FIRMWARE_EPOCH   # 10:00 UTC: the solar day runs to ~23:42 UTC
    engine._outside(t0, "too_cold", None)          # works out the day
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    dark = 0
    for i in range(1, 100):                      # to 18:15 UTC, one prediction per 5 min
        dark += engine._outside(t0 + 300 * i, "too_cold", None)
    grown = gc.mem_alloc() - before
    gc.enable()
    assert grown <= 16, grown
    assert dark == 0   # sunlit all along
    # and the day's sunrise and sunset agree with the elevation to the minute
    for i in range(0, 288):
        t = JUN21_2026 + 300 * i
        up = sun_up(t, 52.0, 4.5)
        elevation = sun_elevation_deg(t, 52.0, 4.5)
        assert up == (elevation >= SUN_UP_DEG) or abs(elevation - SUN_UP_DEG) < 0.2, (i, up, elevation)
