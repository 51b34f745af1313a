# The RH drift cross-check against the SCD4x's own humidity (verdant.dewpointdrift via
# verdant.sensorfaults): raises on a 0.5 %/h drift within the hours its threshold allows,
# names the sensor that departs when the air holds still, stays quiet on healthy air with
# self-heating, calibration offsets and noise, and while the air temperature moves fast,
# and clears once the sensor is repaired.
import math

from verdant import dewpointdrift
from verdant.dewpointdrift import MEDIAN_N, threshold_rh
from verdant.features import saturation_vapour_pressure_kpa as es
from verdant.sensorfaults import SensorFaults
from verdant.sim.part import Random

STEP = 300
HOUR = 3600
DAY = 86400
T0 = 1767225600
SELF_HEATING = 1.5
SENSORS = {"air_temp_c": "air", "rh_pct": "air", "co2_ppm": "co2", "scd4x_temp_c": "co2", "scd4x_rh_pct": "co2"}
THRESHOLD = threshold_rh("sht3x")
# the raised run must last dew_point_drift_s (1 h); the residual is a median of MEDIAN_N
# steps, so it shows a ramp half a window (MEDIAN_N / 2 steps) late
LAG_H = 1.0 + MEDIAN_N / 2 * STEP / HOUR


def greenhouse_day(t):
    """A smooth greenhouse day: 16-24 C, RH 85 % at night to 62 % by day."""
    phase = 2 * math.pi * ((t - T0) % DAY) / DAY
    return 20.0 - 4.0 * math.cos(phase), 73.5 + 11.5 * math.cos(phase)


def still_air(t):
    return 18.0, 75.0


def readings(t, air, rnd, rh_drift=0.0, ref_rh_drift=0.0, ref_t_error=0.0, ref_rh_error=0.0,
             rh_error=0.0, ref_air=None):
    """One feature step of an SHT3x and an SCD4x in the same air (ref_air: the air as
    the SCD4x sees it, when not the same): the SCD4x self-heated (same vapour, lower
    RH), both with their datasheet repeatability as noise."""
    temp, rh = air(t)
    ref_air_t, ref_air_rh = (temp, rh) if ref_air is None else ref_air(t)
    chip = ref_air_t + SELF_HEATING
    ref_rh = ref_air_rh * es(ref_air_t) / es(chip)
    return {"air_temp_c": temp + 0.04 * rnd.gauss(), "rh_pct": rh + rh_error + rh_drift + 0.08 * rnd.gauss(),
            "co2_ppm": 600.0,
            "scd4x_temp_c": chip + ref_t_error + 0.1 * rnd.gauss(),
            "scd4x_rh_pct": ref_rh + ref_rh_error + ref_rh_drift + 0.4 * rnd.gauss()}


def run(det, days, air, seed=3, ref_air=None, **faults):
    """Feed days of 5-min steps; faults: name -> function(t) giving that reading error.
    Returns [(hours since T0, event)]."""
    rnd = Random(seed)
    out = []
    for i in range(int(days * DAY // STEP)):
        t = T0 + i * STEP
        errors = {}
        for name, fn in faults.items():
            errors[name] = fn(t)
        for ev in det.update(t, readings(t, air, rnd, ref_air=ref_air, **errors)):
            out.append(((t - T0) / HOUR, ev))
    return out


def drift_from(start_h, per_h=0.5, until_h=None):
    def fn(t):
        h = (t - T0) / HOUR
        if h < start_h or (until_h is not None and h >= until_h):
            return 0.0
        return per_h * (h - start_h)
    return fn


def drifts(events):
    return [(h, e) for h, e in events if e["values"]["fault"] == "drift"]


def faults():
    det = SensorFaults(sensor_of=SENSORS)
    det.rh_driver = "sht3x"
    return det


def test_threshold_comes_from_the_datasheets_and_grows_with_a_coarser_air_sensor():
    # SCD4x RH 0.4 %RH and T 0.1 C, SHT3x 0.08 %RH and 0.04 C: about 3 %RH; a DHT22 (1 %RH) more
    assert 2.5 < THRESHOLD < 3.5, THRESHOLD
    assert threshold_rh("dht22") > THRESHOLD + 0.5
    assert threshold_rh("no such part") >= threshold_rh("dht22")


def test_rh_drift_of_half_a_percent_an_hour_raises_within_the_threshold_time_naming_the_air_sensor():
    det = faults()
    start = 30.0  # hours: after the first day's learning
    events = drifts(run(det, 3, still_air, rh_drift=drift_from(start)))
    assert [e["event"] for _, e in events] == ["raise"], events
    hour, ev = events[0]
    expected = start + THRESHOLD / 0.5 + LAG_H  # the drift passes the threshold, then the median lag and 1 h
    assert expected - 0.75 <= hour <= expected + 0.75, (hour, expected)
    v = ev["values"]
    assert ev["type"] == "sensor_fault" and ev["severity"] == "warning"
    assert v["sensor"] == "air" and v["quantity"] == "rh_pct" and v["suspect"] == "air" and v["reference"] == "co2"
    assert v["departure_pct"] > THRESHOLD
    assert "air drifting" in ev["reason"] and "co2's stayed" in ev["reason"], ev["reason"]
    assert "rh_pct" in det.suspects()  # humidity rules no longer trust it


def test_a_drifting_scd4x_is_named_and_leaves_the_rules_their_rh():
    det = faults()
    events = drifts(run(det, 3, still_air, ref_rh_drift=drift_from(30.0, per_h=-0.4)))
    assert [e["event"] for _, e in events] == ["raise"], events
    v = events[0][1]["values"]
    assert v["sensor"] == "co2" and v["quantity"] == "scd4x_rh_pct" and v["suspect"] == "co2"
    assert "rh_pct" not in det.suspects()


def test_drift_while_the_real_humidity_swings_names_both_sensors():
    det = faults()
    start = 26.0  # 2 am: the raise comes in the morning, when the air's real dew point rose meanwhile
    events = drifts(run(det, 3, greenhouse_day, rh_drift=drift_from(start)))
    assert [e["event"] for _, e in events] == ["raise"], events
    hour, ev = events[0]
    expected = start + THRESHOLD / 0.5 + LAG_H
    assert expected - 0.75 <= hour <= expected + 0.75, (hour, expected)
    assert ev["values"]["suspect"] == "air,co2" and "air or co2 drifting" in ev["reason"], ev


def test_healthy_air_with_self_heating_calibration_offsets_and_noise_is_quiet():
    det = faults()
    # the parts' datasheet tolerances: SCD4x T +0.8 C and RH -5 %RH, SHT3x RH +1.5 %RH
    events = run(det, 5, greenhouse_day, ref_t_error=lambda t: 0.8, ref_rh_error=lambda t: -5.0,
                 rh_error=lambda t: 1.5)
    assert events == [], events
    # it did judge: the learned offset is the calibration offsets seen at the air temperature
    check = dewpointdrift.status(det._dew)
    assert not check["active"]
    # (7.3 - 0.05 RH for these offsets: 3-4.2 %RH over the day's RH)
    assert 2.5 < check["offset"] < 5.0, check
    assert abs(check["departure"]) < THRESHOLD / 2, check


def test_a_board_without_an_scd4x_has_no_cross_check():
    det = SensorFaults(sensor_of=SENSORS)
    rnd = Random(1)
    for i in range(400):
        row = readings(T0 + i * STEP, still_air, rnd, rh_drift=0.5 * i * STEP / HOUR)
        del row["scd4x_temp_c"], row["scd4x_rh_pct"]
        assert det.update(T0 + i * STEP, row) == []
    assert det._dew is None


def lagging(air, tau_s):
    """The SCD4x in a housing: it sees the air through a first-order lag of tau_s (its
    datasheet's 90-120 s are for the bare part)."""
    state = {}

    def fn(t):
        temp, rh = air(t)
        if not state:
            state["t"], state["temp"], state["e"] = t, temp, rh * es(temp)
        k = 1.0 - math.exp(-(t - state["t"]) / tau_s)
        state["t"] = t
        state["temp"] += (temp - state["temp"]) * k
        state["e"] += (rh * es(temp) - state["e"]) * k
        return state["temp"], state["e"] / es(state["temp"])
    return fn


def heating_days(t):
    """Mornings and evenings when the air moves 6 C/h for two hours (heating, vents)."""
    h = ((t - T0) % DAY) / HOUR
    if h < 8:
        temp = 16.0
    elif h < 10:
        temp = 16.0 + 6.0 * (h - 8)
    elif h < 18:
        temp = 28.0
    elif h < 20:
        temp = 28.0 - 6.0 * (h - 18)
    else:
        temp = 16.0
    return temp, 70.0


def test_fast_temperature_changes_with_slower_scd4x_are_not_judged():
    # without the steadiness test the lag alone looks like drift (so this trace tests it)
    def run_with(det):
        return drifts(run(det, 4, heating_days, ref_air=lagging(heating_days, 900)))
    unguarded = faults()
    unguarded._dew = dewpointdrift.new(THRESHOLD, steady_c_h=1e9, heat_band_c=1e9)
    assert [e["event"] for _, e in run_with(unguarded)][:1] == ["raise"]
    guarded = faults()
    assert run_with(guarded) == []
    check = dewpointdrift.status(guarded._dew)
    assert check["learned"] >= MEDIAN_N and abs(check["offset"]) < 1.0, check  # it judged the steady hours


def test_clears_after_the_sensor_is_repaired():
    det = faults()
    start, repaired = 30.0, 44.0
    events = drifts(run(det, 3, still_air, rh_drift=drift_from(start, until_h=repaired)))
    assert [e["event"] for _, e in events] == ["raise", "clear"], events
    hour, ev = events[1]
    # back within half the threshold at once: the median needs half a window, the run 1 h
    assert repaired + 1.0 <= hour <= repaired + LAG_H + 0.25, hour
    assert ev["values"]["quantity"] == "rh_pct" and ev["values"]["sensor"] == "air"
    assert "rh_pct" not in det.suspects() and det.active() == []


def test_the_offset_is_frozen_while_raised():
    det = faults()
    run(det, 3, still_air, rh_drift=drift_from(30.0))
    check = dewpointdrift.status(det._dew)
    assert check["active"] and check["suspect"] == "air"
    assert abs(check["offset"]) < 0.5 < THRESHOLD < check["departure"], check
