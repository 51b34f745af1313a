"""RH drift cross-check: the air sensor's humidity against the SCD4x's own.

Every board we ship has an SCD4x CO2 sensor beside its air T/RH sensor, and the SCD4x
measures its own temperature and humidity (scd4x_temp_c, scd4x_rh_pct). It heats itself,
so it reads warmer air at a lower RH, but the water vapour is the same: the humidity its
vapour implies at the air sensor's temperature,

    rh_ref = scd4x_rh_pct * es(scd4x_temp_c) / es(air_temp_c)      (es: Buck, verdant.features)

stays a near-constant offset from rh_pct (the two parts' calibration tolerances). An air
RH sensor drifting 0.5 %/h moves rh_pct - rh_ref by 0.5 %RH per hour, whatever the
humidity (equivalently its dew point departs from the SCD4x's: 5 %RH at 20 C / 70 % is
1.2 C). The comparison is made in %RH at the air temperature, not in dew point, because
the drift and the datasheets' figures are in %RH: the threshold and the time to detect a
given drift then do not depend on the humidity at the time.

Each feature step, with all four readings present (check(state, t, temp, rh, ref_temp,
ref_rh), state from new()):
  steady     the step is judged only when the air temperature moved at most steady_c_h (2)
             C/h since the previous step and the SCD4x's self-heating (scd4x_temp_c -
             air_temp_c) is within heat_band_c (0.6 C) of its learned value: the parts' response
             times differ (SHT3x RH 8 s; SCD4x RH 90 s, T 120 s in its datasheet, longer
             in a housing), so while the air changes fast their readings are not of the
             same moment. Readings at saturation (RH >= 98 %) are not judged either.
  residual   median of the last MEDIAN_N judged values of rh_pct - rh_ref (a lone odd
             reading moves it little).
  offset     learned: the mean residual over the first learn_s (a day) of judged steps;
             then it follows slowly (time constant 3 days) while the residual
             stays within half the threshold (sensors age, the seasons move the RH
             level); frozen while a drift is raised.
  raise      |residual - offset| > threshold on every judged step for drift_s (1 h) and
             at least MEDIAN_N judged steps.
  clear      |residual - offset| < threshold / 2 on every judged step for drift_s.
  suspect    each sensor's vapour pressure (so its dew point), smoothed over the judged
             steps, is compared with its value when the residual was last within half
             the threshold: the sensor whose dew point moved while the other's stayed
             (moved less than a third of the change in their difference) is named, "air"
             or "reference"; "both" when both moved (the air's real humidity changed
             meanwhile, the usual case by day: then nothing tells which one drifts).

Threshold (threshold_rh(driver), %RH) from the parts' datasheets:
  noise per step (1 sigma, taking each repeatability figure as one standard deviation,
  the cautious reading: Sensirion's SHT3x datasheet states its figures as 3 sigma):
    SCD4x RH 0.4 %RH, times es(chip)/es(air) <= 1.35 for self-heating up to 5 C;
    SCD4x T 0.1 C, and the air sensor's T, through es: 95 % x 0.07 per C;
    the air sensor's RH repeatability
  the residual is a median of MEDIAN_N: sigma * 1.2533 / sqrt(MEDIAN_N); 3 of those
  plus what a constant offset cannot absorb as the RH level swings through a day
  (60..95 %): the SCD4x's T tolerance (+-0.8 C) scales rh_ref by es, so
  0.8 * 0.07 * (95 - 60) / 2, and the air sensor's RH hysteresis.
  SHT3x/SHT4x: 3.2 %RH (a 0.5 %/h drift is past it after 6.3 h); DHT22: 4.2 %RH.
Sources (found with the project's docs/pages search): Sensirion SCD4x datasheet v1.3
(September 2022), 1.2 humidity and 1.3 temperature sensing performance, as its figures
are quoted on tinycontrol.pl's SCD40 page and in the Espressif component jef-sure/scd4x:
RH repeatability +-0.4 %RH, T repeatability +-0.1 C, T accuracy +-0.8 C (15-35 C), RH
accuracy +-6 %RH, response times 90 s (RH) and 120 s (T). SHT3x: 0.08 %RH and 0.04 C in
high repeatability mode (the figures verdant.sim's SHT3x part uses), RH hysteresis 0.8 %RH
and response time 8 s (Sensirion SHT3x-ARP datasheet, the same sensing element; it states
repeatability as 3 sigma). Aosong AM2302/DHT22 datasheet: repeatability +-1 %RH and
+-0.2 C, hysteresis +-0.3 %RH. AHT20 and BME280: the figures verdant.sim's parts use.

Reboots: what the check learned (the offset, the self-heating, the first day's sums, the
vapour pressures when it last agreed) is kept in the board's learned-state file
(verdant.learnedstate, written hourly) and read back at boot by read_back(): the first day
is not learned again, and a drift under way at the reboot is judged against the offset
learned before it, not absorbed into a new one. A state older than 2 days, or learned with
another RH sensor, is not restored.

Memory: the state is four preallocated arrays (floats, ints, and the residuals as int16
hundredths: sorting them for the median makes no float objects) and the code plain
functions, no class and no instance (each costs RAM on a board: the module and its
state take about 0.6 KB on the 32-bit port, where the sim32 virtual board's 96 KB heap
has little to spare); check() allocates only the float temporaries of its arithmetic (two
exp, under 1 KB on a 32-bit port, garbage at once).

Example:
    state = new(threshold_rh("sht3x"))
    verdict = check(state, t, 18.2, 75.0, 19.7, 68.8)   # None, "raise" or "clear"
    status(state)["offset"]                              # the learned difference, %RH
"""
import math
from array import array

from verdant import features
from verdant.sampler import median_in_place

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

MEDIAN_N = const(6)        # judged steps in the residual's median (30 min at 5-min steps)
_ADAPT_S = const(259200)   # time constant of the offset's slow follow-up after the first day
# (readings at 98 %RH or more are not judged: at saturation capacitive sensors read wet;
# new()'s steady_c_h=2.0: air temperature change per hour beyond which a step is not
# judged; heat_band_c=0.6: self-heating this far from its learned value, the two parts'
# readings are not of the same moment)


def threshold_rh(driver=None):
    """|residual - offset| (%RH at the air temperature) beyond which the two disagree,
    for an air sensor of this driver (module docstring)."""
    # the air sensor's (RH repeatability %RH, T repeatability C, RH hysteresis %RH); an
    # unknown one gets the coarsest figures
    rh_rep, t_rep, hysteresis = {
        "sht3x": (0.08, 0.04, 0.8), "sht4x": (0.08, 0.04, 0.8), "aht20": (0.1, 0.1, 1.0),
        "bme280": (0.1, 0.01, 1.0), "dht22": (1.0, 0.2, 0.3)}.get(driver, (1.0, 0.2, 1.0))
    scd_rh_repeat = 0.4    # %RH, SCD4x datasheet 1.2
    scd_t_repeat = 0.1     # C, SCD4x datasheet 1.3
    scd_t_accuracy = 0.8   # C (15-35 C), SCD4x datasheet 1.3
    heat_ratio = 1.35      # es(T + 5 C) / es(T): the SCD4x's RH noise seen at the air temperature
    dlnes_dt = 0.07        # d ln es / dT per C near 10-25 C (Buck): an error of 1 C is 7 % of the RH
    rh_level = 95.0        # the humid end of a greenhouse day, where T errors weigh most
    level_low = 60.0       # its dry end
    k_sigma = 3.0
    per_c = rh_level * dlnes_dt
    var = (scd_rh_repeat * heat_ratio) ** 2 + (per_c * scd_t_repeat) ** 2 + rh_rep ** 2 + (per_c * t_rep) ** 2
    sigma_median = 1.2533 * var ** 0.5 / MEDIAN_N ** 0.5
    level = scd_t_accuracy * dlnes_dt * (rh_level - level_low) / 2
    return k_sigma * sigma_median + level + hysteresis


# slots of the state's floats (floats kept in one array: no float object per assignment)
_OFFSET = const(0)      # learned residual (%RH)
_HEAT = const(1)        # learned self-heating (C)
_SUM = const(2)         # first-day sums
_HEAT_SUM = const(3)
_LAST_T = const(4)      # air temperature at the previous step
_E = const(5)           # smoothed vapour pressures (kPa) of the air sensor and the SCD4x ...
_REF_E = const(6)
_E_OK = const(7)        # ... when the residual was last normal
_REF_E_OK = const(8)
_DEPARTURE = const(9)   # median residual - offset
_THRESHOLD = const(10)
_STEADY_C_H = const(11)
_HEAT_BAND = const(12)
_DEW = const(13)        # at the raise: both dew points and how far each moved
_REF_DEW = const(14)
_MOVED = const(15)
_REF_MOVED = const(16)
# slots of the state's ints (ints; times are firmware seconds, -1 unset)
_N = const(0)           # residuals in the window
_NEXT = const(1)        # ring position
_LEARNED = const(2)     # judged steps in the first day
_LEARN_FROM = const(3)  # time of the first judged step
_LAST_TIME = const(4)   # time of the previous step
_RUN_SINCE = const(5)   # first judged step of the current run past (or, raised, back within) the threshold
_RUN_N = const(6)
_OK_KNOWN = const(7)    # vapour pressures at the last normal residual known
_ACTIVE = const(8)
_SINCE = const(9)       # when the raised run began
_SUSPECT = const(10)    # 0 both, 1 the air sensor, 2 the SCD4x
_DRIFT_S = const(11)
_LEARN_S = const(12)
_WINDOW = const(2)      # the state: (floats, ints, the residual ring, the median's scratch)
_SCRATCH = const(3)
_CENTI_MAX = const(32000)  # residuals kept as int16 hundredths of a %RH
SUSPECTS = ("both", "air", "reference")


def dew_point_of(e):
    """Dew point (C) of the vapour pressure e (kPa): the Magnus form verdant.features uses."""
    g = math.log(e / 0.6112)
    return features.MAGNUS_B * g / (features.MAGNUS_A - g)


def new(threshold, drift_s=3600, learn_s=86400, steady_c_h=2.0, heat_band_c=0.6):
    """The state of one board's cross-check, preallocated: (floats, ints, the residuals'
    ring, the median's scratch)."""
    f = array("f", [0.0] * 17)
    f[_THRESHOLD], f[_STEADY_C_H], f[_HEAT_BAND] = threshold, steady_c_h, heat_band_c
    i = array("i", [0] * 13)  # 32-bit on every port: the learned-state file's layout is the same
    i[_LEARN_FROM] = i[_LAST_TIME] = i[_RUN_SINCE] = i[_SINCE] = -1
    i[_DRIFT_S], i[_LEARN_S] = drift_s, learn_s
    return f, i, array("h", [0] * MEDIAN_N), array("h", [0] * MEDIAN_N)


def read_back(state, readinto):
    """Fills a new() state with what the check learned before a reboot (verdant.learnedstate
    wrote state[0] and state[1], the floats then the ints): readinto(array) reads each back.
    This board's settings stay; the steps' transient state starts again: the residual ring
    refills in MEDIAN_N judged steps, and a drift that was raised is judged again against the
    offset learned before it (that offset stopped following once the residual went past half
    the threshold, so the drift is not learned as normal) and raised again after drift_s.
    Returns None, or why the values are unusable (the caller then starts a new state)."""
    f, i = state[0], state[1]
    threshold, steady, band = f[_THRESHOLD], f[_STEADY_C_H], f[_HEAT_BAND]
    drift_s, learn_s = i[_DRIFT_S], i[_LEARN_S]
    readinto(f)
    readinto(i)
    learned_with = f[_THRESHOLD]
    f[_THRESHOLD], f[_STEADY_C_H], f[_HEAT_BAND] = threshold, steady, band
    i[_DRIFT_S], i[_LEARN_S] = drift_s, learn_s
    for k in range(len(f)):
        if not -1e30 < f[k] < 1e30:  # NaN fails both comparisons
            return "dew point: value %d not finite" % k
    if learned_with != threshold:
        return "dew point: learned with another RH sensor (threshold %.1f, now %.1f)" % (learned_with, threshold)
    if i[_LEARNED] < 0 or not 0 <= i[_SUSPECT] < len(SUSPECTS) or not 0 <= i[_OK_KNOWN] <= 1:
        return "dew point: counts out of range"
    i[_N] = i[_NEXT] = i[_RUN_N] = i[_ACTIVE] = 0
    i[_LAST_TIME] = i[_RUN_SINCE] = i[_SINCE] = -1
    return None


def status(state):
    """What the check holds now (a new dict: for tests and reports, not the step path)."""
    f, i = state[0], state[1]
    return {"offset": f[_OFFSET], "departure": f[_DEPARTURE], "heat": f[_HEAT], "active": i[_ACTIVE] == 1,
            "learned": i[_LEARNED], "suspect": SUSPECTS[i[_SUSPECT]], "threshold": f[_THRESHOLD]}


def check(state, t, temp, rh, ref_temp, ref_rh):
    """One feature step with the four readings (none None): None, "raise" or "clear"
    (module docstring)."""
    f, i = state[0], state[1]
    last_t, i[_LAST_TIME] = i[_LAST_TIME], t
    last_temp, f[_LAST_T] = f[_LAST_T], temp
    if last_t < 0 or t <= last_t:
        return None
    if rh >= 98.0 or ref_rh >= 98.0 or rh <= 0.0 or ref_rh <= 0.0:
        return None
    if abs(temp - last_temp) * 3600 > f[_STEADY_C_H] * (t - last_t):
        return None
    heat = ref_temp - temp
    learning = i[_LEARN_FROM] < 0 or t - i[_LEARN_FROM] < i[_LEARN_S] or i[_LEARNED] < MEDIAN_N
    if i[_LEARNED] >= MEDIAN_N and abs(heat - f[_HEAT]) > f[_HEAT_BAND]:
        return None
    es_air, es_ref = features.saturation_vapour_pressure_kpa(temp), features.saturation_vapour_pressure_kpa(ref_temp)
    residual = rh - ref_rh * es_ref / es_air
    # the residual into the ring (int16 hundredths), both vapour pressures smoothed
    centi = int(residual * 100 + (0.5 if residual >= 0 else -0.5))
    state[_WINDOW][i[_NEXT]] = -_CENTI_MAX if centi < -_CENTI_MAX else _CENTI_MAX if centi > _CENTI_MAX else centi
    i[_NEXT] = (i[_NEXT] + 1) % MEDIAN_N
    e, ref_e = rh * es_air / 100, ref_rh * es_ref / 100
    if i[_N] == 0:
        f[_E], f[_REF_E] = e, ref_e
    else:
        f[_E] += (e - f[_E]) / MEDIAN_N
        f[_REF_E] += (ref_e - f[_REF_E]) / MEDIAN_N
    if i[_N] < MEDIAN_N:
        i[_N] += 1
        if i[_N] < MEDIAN_N:
            return None
    median = _median(state[_WINDOW], state[_SCRATCH])
    if learning:  # the first day (and on until MEDIAN_N steps were steady): mean residual and self-heating
        if i[_LEARN_FROM] < 0:
            i[_LEARN_FROM] = t
        i[_LEARNED] += 1
        f[_SUM] += median
        f[_HEAT_SUM] += heat
        f[_OFFSET] = f[_SUM] / i[_LEARNED]
        f[_HEAT] = f[_HEAT_SUM] / i[_LEARNED]
        f[_E_OK], f[_REF_E_OK], i[_OK_KNOWN] = f[_E], f[_REF_E], 1
        return None
    departure = f[_DEPARTURE] = median - f[_OFFSET]
    threshold = f[_THRESHOLD]
    if not i[_ACTIVE]:
        if abs(departure) < threshold / 2:  # normal: follow slowly, remember both vapours
            follow = (t - last_t) / _ADAPT_S
            follow = 1.0 if follow > 1.0 else follow
            f[_OFFSET] += departure * follow
            f[_HEAT] += (heat - f[_HEAT]) * follow
            f[_E_OK], f[_REF_E_OK], i[_OK_KNOWN] = f[_E], f[_REF_E], 1
        if abs(departure) <= threshold:
            i[_RUN_SINCE], i[_RUN_N] = -1, 0
            return None
        if not _run_lasted(i, t):
            return None
        i[_ACTIVE], i[_SINCE] = 1, i[_RUN_SINCE]
        i[_RUN_SINCE], i[_RUN_N] = -1, 0
        _judge(f, i, temp, rh, ref_temp, ref_rh)
        return "raise"
    if abs(departure) >= threshold / 2:
        i[_RUN_SINCE], i[_RUN_N] = -1, 0
        return None
    if not _run_lasted(i, t):
        return None
    i[_ACTIVE], i[_RUN_SINCE], i[_RUN_N] = 0, -1, 0
    f[_E_OK], f[_REF_E_OK], i[_OK_KNOWN] = f[_E], f[_REF_E], 1
    return "clear"


def _run_lasted(i, t):
    """One more judged step in the run; True once it spans drift_s and MEDIAN_N steps."""
    if i[_RUN_SINCE] < 0:
        i[_RUN_SINCE] = t
    i[_RUN_N] += 1
    return t - i[_RUN_SINCE] >= i[_DRIFT_S] and i[_RUN_N] >= MEDIAN_N


def _median(w, s):
    """Median of the ring w (int16 hundredths) in %RH, sorted in the scratch s (ints: no
    float objects)."""
    for k in range(MEDIAN_N):
        s[k] = w[k]
    return median_in_place(s, MEDIAN_N) / 100


def _judge(f, i, temp, rh, ref_temp, ref_rh):
    """At a raise: the dew points, and which sensor departed from its own recent history
    (module docstring)."""
    f[_DEW], f[_REF_DEW] = features.dew_point_c(temp, rh), features.dew_point_c(ref_temp, ref_rh)
    i[_SUSPECT] = 0
    if not i[_OK_KNOWN]:
        return
    moved = f[_MOVED] = dew_point_of(f[_E]) - dew_point_of(f[_E_OK])
    ref_moved = f[_REF_MOVED] = dew_point_of(f[_REF_E]) - dew_point_of(f[_REF_E_OK])
    apart = abs(moved - ref_moved) / 3
    if abs(ref_moved) <= apart < abs(moved):
        i[_SUSPECT] = 1
    elif abs(moved) <= apart < abs(ref_moved):
        i[_SUSPECT] = 2


def raised(state, t, rh, air, ref):
    """After a raise: (quantity, reason, extra alert values), naming the air sensor `air`
    and the SCD4x `ref` (board sensor names). A suspected SCD4x is raised on scd4x_rh_pct,
    anything else on rh_pct (the humidity the rules read)."""
    f, suspect = state[0], state[1][_SUSPECT]
    reason = ("rh_pct %.1f departs %+.1f %%RH (threshold %.1f) from its usual difference (%+.1f) with the "
              "humidity the %s sensor's (SCD4x) vapour implies at the air temperature, for %d s; dew points "
              "%.1f and %.1f C" % (rh, f[_DEPARTURE], f[_THRESHOLD], f[_OFFSET], ref, t - state[1][_SINCE],
                                   f[_DEW], f[_REF_DEW]))
    if suspect == 1:
        reason += ": %s's dew point moved %+.1f C while %s's stayed, %s drifting" % (air, f[_MOVED], ref, air)
        who = air
    elif suspect == 2:
        reason += ": %s's dew point moved %+.1f C while %s's stayed, %s (SCD4x) drifting" % (
            ref, f[_REF_MOVED], air, ref)
        who = ref
    else:
        reason += ": %s or %s drifting (both dew points moved since they agreed)" % (air, ref)
        who = air + "," + ref
    extra = {"reference": ref, "suspect": who, "departure_pct": round(f[_DEPARTURE], 2),
             "dew_point_c": round(f[_DEW], 2), "reference_dew_point_c": round(f[_REF_DEW], 2)}
    return ("scd4x_rh_pct" if suspect == 2 else "rh_pct"), reason, extra


def clear_reason(state, ref):
    return "rh_pct agrees with the %s sensor's humidity again (%+.1f %%RH from the usual difference)" % (
        ref, state[0][_DEPARTURE])
