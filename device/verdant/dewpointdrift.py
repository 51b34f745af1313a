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

Each feature step, with all four readings present (check(t, temp, rh, ref_temp, ref_rh)):
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

Memory: a few preallocated arrays (the residuals as int16 hundredths: sorting them for
the median makes no float objects); check() allocates only the float temporaries of its
arithmetic (two exp, about 40 floats: under 1 KB on a 32-bit port, garbage at once).
"""
import math
from array import array

from verdant.features import MAGNUS_A, MAGNUS_B, dew_point_c, saturation_vapour_pressure_kpa as _es

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

# (few module globals: each costs RAM on a board, where this module is imported only with an SCD4x)
MEDIAN_N = const(6)        # judged steps in the residual's median (30 min at 5-min steps)
_ADAPT_S = const(259200)   # time constant of the offset's slow follow-up after the first day
_WET_RH = 98.0             # at saturation capacitive sensors read wet, not the air
# STEADY_C_H, HEAT_BAND_C: DewPointDrift's steady_c_h=2.0 (air temperature change per hour
# beyond which a step is not judged) and heat_band_c=0.6 (self-heating this far from its
# learned value: the two parts' readings are not of the same moment)


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


# slots of DewPointDrift._f (floats kept in one array: no float object per assignment)
_OFFSET, _HEAT, _SUM, _HEAT_SUM, _LAST_T, _E_OK, _REF_E_OK, _DEPARTURE, _RESIDUAL, _E, _REF_E = range(11)
_CENTI_MAX = const(32000)  # residuals kept as int16 hundredths of a %RH


def dew_point_of(e):
    """Dew point (C) of the vapour pressure e (kPa): the Magnus form verdant.features uses."""
    g = math.log(e / 0.6112)
    return MAGNUS_B * g / (MAGNUS_A - g)


class DewPointDrift:
    """The cross-check of one board. check() returns None, "raise" or "clear"; after a
    raise, suspect, departure(), offset(), dew points and the readings say what was seen."""

    def __init__(self, threshold, drift_s=3600, learn_s=86400, steady_c_h=2.0, heat_band_c=0.6):
        self.threshold = threshold
        self.drift_s = drift_s
        self.learn_s = learn_s
        self.steady_c_h = steady_c_h
        self.heat_band_c = heat_band_c
        self._f = array("f", [0.0] * 11)
        self._window = array("h", [0] * MEDIAN_N)   # last judged residuals (hundredths of %RH), a ring
        self._sorted = array("h", [0] * MEDIAN_N)   # scratch for the median
        self._n = 0               # residuals in the window
        self._next = 0            # ring position
        self._learned = 0         # judged steps in the first learn_s
        self._learn_from = None   # time of the first judged step
        self._last_t = None       # time of the previous step with an air temperature
        self.since = None         # when the raised run began
        self._run_since = None    # first judged step of the current run past (or, raised, back within) the threshold
        self._run_n = 0
        self._ok_known = False    # dew points at the last normal residual are known
        self.active = False
        self.suspect = None       # "air", "reference" or "both", set at a raise
        self.dew = self.ref_dew = self.moved = self.ref_moved = None

    def offset(self):
        return self._f[_OFFSET]

    def departure(self):
        return self._f[_DEPARTURE]

    def residual(self):
        return self._f[_RESIDUAL]

    def check(self, t, temp, rh, ref_temp, ref_rh):
        """One feature step with the four readings (none None); see the module docstring."""
        f = self._f
        last_t, self._last_t = self._last_t, t
        last_temp, f[_LAST_T] = f[_LAST_T], temp
        if last_t is None or t <= last_t:
            return None
        if rh >= _WET_RH or ref_rh >= _WET_RH or rh <= 0.0 or ref_rh <= 0.0:
            return None
        if abs(temp - last_temp) * 3600.0 > self.steady_c_h * (t - last_t):
            return None
        heat = ref_temp - temp
        learned = self._learn_from is not None and self._learned >= MEDIAN_N
        if learned and abs(heat - f[_HEAT]) > self.heat_band_c:
            return None
        es_air, es_ref = _es(temp), _es(ref_temp)
        self._push(rh - ref_rh * es_ref / es_air)
        self._smooth_vapour(rh * es_air / 100, ref_rh * es_ref / 100)
        if self._n < MEDIAN_N:
            return None
        median = f[_RESIDUAL] = self._median()
        if self._learn_from is None:
            self._learn_from = t
        if t - self._learn_from < self.learn_s or self._learned < MEDIAN_N:
            # the first day (and on until MEDIAN_N steps were steady): the mean residual and self-heating
            self._learned += 1
            f[_SUM] += median
            f[_HEAT_SUM] += heat
            f[_OFFSET] = f[_SUM] / self._learned
            f[_HEAT] = f[_HEAT_SUM] / self._learned
            self._note_ok()
            return None
        departure = f[_DEPARTURE] = median - f[_OFFSET]
        follow = (t - last_t) / _ADAPT_S
        if follow > 1.0:
            follow = 1.0
        if not self.active:
            if abs(departure) < self.threshold / 2:
                f[_OFFSET] += departure * follow
                f[_HEAT] += (heat - f[_HEAT]) * follow
                self._note_ok()
            if abs(departure) <= self.threshold:
                self._run_since, self._run_n = None, 0
                return None
            if self._counted(t):
                self.active = True
                self.since = self._run_since
                self._run_since, self._run_n = None, 0
                self._judge_suspect(temp, rh, ref_temp, ref_rh)
                return "raise"
            return None
        if abs(departure) >= self.threshold / 2:
            self._run_since, self._run_n = None, 0
            return None
        if self._counted(t):
            self.active = False
            self._run_since, self._run_n = None, 0
            self._note_ok()
            return "clear"
        return None

    def _counted(self, t):
        """One more judged step in the run; True once it spans drift_s and MEDIAN_N steps."""
        if self._run_since is None:
            self._run_since = t
        self._run_n += 1
        return t - self._run_since >= self.drift_s and self._run_n >= MEDIAN_N

    def _push(self, residual):
        centi = int(residual * 100 + (0.5 if residual >= 0 else -0.5))
        self._window[self._next] = -_CENTI_MAX if centi < -_CENTI_MAX else _CENTI_MAX if centi > _CENTI_MAX else centi
        self._next = (self._next + 1) % MEDIAN_N
        if self._n < MEDIAN_N:
            self._n += 1

    def _median(self):
        s = self._sorted
        n = self._n
        for i in range(n):  # insertion sort into the scratch array (no list)
            v = self._window[i]
            j = i - 1
            while j >= 0 and s[j] > v:
                s[j + 1] = s[j]
                j -= 1
            s[j + 1] = v
        mid = n // 2
        return s[mid] / 100 if n % 2 else (s[mid - 1] + s[mid]) / 200

    def _smooth_vapour(self, e, ref_e):
        """Both vapour pressures (kPa), averaged over about MEDIAN_N judged steps (the
        SCD4x's alone is noisy: +-0.15 C of dew point)."""
        f = self._f
        if self._n < 2:  # the first judged step
            f[_E], f[_REF_E] = e, ref_e
        else:
            f[_E] += (e - f[_E]) / MEDIAN_N
            f[_REF_E] += (ref_e - f[_REF_E]) / MEDIAN_N

    def _note_ok(self):
        self._f[_E_OK] = self._f[_E]
        self._f[_REF_E_OK] = self._f[_REF_E]
        self._ok_known = True

    def _judge_suspect(self, temp, rh, ref_temp, ref_rh):
        """Which sensor departed from its own recent history (module docstring)."""
        f = self._f
        self.dew, self.ref_dew = dew_point_c(temp, rh), dew_point_c(ref_temp, ref_rh)
        self.suspect = "both"
        self.moved = self.ref_moved = None
        if not self._ok_known:
            return
        self.moved = dew_point_of(f[_E]) - dew_point_of(f[_E_OK])
        self.ref_moved = dew_point_of(f[_REF_E]) - dew_point_of(f[_REF_E_OK])
        apart = abs(self.moved - self.ref_moved) / 3
        if abs(self.ref_moved) <= apart < abs(self.moved):
            self.suspect = "air"
        elif abs(self.moved) <= apart < abs(self.ref_moved):
            self.suspect = "reference"

    def raised(self, t, rh, air, ref):
        """After a raise: (quantity, reason, extra alert values), naming the air sensor
        `air` and the SCD4x `ref` (board sensor names). A suspected SCD4x is raised on
        scd4x_rh_pct, anything else on rh_pct (the humidity the rules read)."""
        reason = ("rh_pct %.1f departs %+.1f %%RH (threshold %.1f) from its usual difference (%+.1f) with the "
                  "humidity the %s sensor's (SCD4x) vapour implies at the air temperature, for %d s; dew points "
                  "%.1f and %.1f C" % (rh, self.departure(), self.threshold, self.offset(), ref, t - self.since,
                                       self.dew, self.ref_dew))
        if self.suspect == "air":
            reason += ": %s's dew point moved %+.1f C while %s's stayed, %s drifting" % (air, self.moved, ref, air)
            suspect = air
        elif self.suspect == "reference":
            reason += ": %s's dew point moved %+.1f C while %s's stayed, %s (SCD4x) drifting" % (
                ref, self.ref_moved, air, ref)
            suspect = ref
        else:
            reason += ": %s or %s drifting (both dew points moved since they agreed)" % (air, ref)
            suspect = air + "," + ref
        extra = {"reference": ref, "suspect": suspect, "departure_pct": round(self.departure(), 2),
                 "dew_point_c": round(self.dew, 2), "reference_dew_point_c": round(self.ref_dew, 2)}
        return ("scd4x_rh_pct" if self.suspect == "reference" else "rh_pct"), reason, extra

    def clear_reason(self, ref):
        return "rh_pct agrees with the %s sensor's humidity again (%+.1f %%RH from the usual difference)" % (
            ref, self.departure())
