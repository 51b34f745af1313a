"""Is the sun up at the board's site: the sun's elevation from the UTC Unix time, latitude
and longitude (degrees, north and east positive). Runs on the board and on the host (the
set models' training asks the same function where the training data's sun was).

sun_up() is true from sunrise to sunset of daylight(): the sunrise and sunset of the local
solar day, worked out once (the board keeps them for the day and compares integers); the
host's training asks sun_up() too, so both judge the same rows.

Formulas: the low-precision solar coordinates of the U.S. Naval Observatory ("Approximate
Solar Coordinates": mean anomaly, ecliptic longitude, obliquity, right ascension and
declination; about 0.01 deg from 1950 to 2050), the equation of time as mean longitude
minus right ascension, and the hour angle from UTC and longitude (Meeus, Astronomical
Algorithms, ch. 25 and 28 give the same terms). Sunrise and sunset times from these are
within ~1 min of almanac times at mid latitudes, far below the 5-minute feature step.

SUN_UP_DEG: the sun counts as up from -0.833 deg on, the almanacs' sunrise/sunset (the
disc's upper edge on the horizon: 16' semi-diameter + 34' refraction). The gates it
drives are about daylight warming the air and the grower dosing CO2; civil twilight
(-6 deg) would count an hour of dusk as day, when a greenhouse without lamps is already
dark (PAR < 5 umol/m2/s) on the training data's days.

Example:
    sun_elevation_deg(1750420800, 52.0, 4.5)   # 2025-06-20 12:00 UTC, Bleiswijk: ~61 deg
    sun_up(1750453200, 52.0, 4.5)              # 21:00 UTC that day: False
"""
import math

SUN_UP_DEG = -0.833
_J2000_UNIX = 946728000      # 2000-01-01 12:00 UTC, the day count's origin (JD 2451545.0)
_RAD = math.pi / 180.0


def _sun(days, frac):
    """(declination in radians, equation of time in degrees) at `days` whole days + `frac`
    after J2000 (12:00 UTC on 2000-01-01)."""
    g = ((357.529 + 0.98560028 * days) % 360.0 + 0.98560028 * frac) * _RAD   # mean anomaly
    q = (280.459 + 0.98564736 * days) % 360.0 + 0.98564736 * frac             # mean longitude
    ecl = (q + 1.915 * math.sin(g) + 0.020 * math.sin(2.0 * g)) * _RAD         # ecliptic longitude
    obl = (23.439 - 0.00000036 * days) * _RAD                                  # obliquity
    ra = math.atan2(math.cos(obl) * math.sin(ecl), math.cos(ecl)) / _RAD
    return math.asin(math.sin(obl) * math.sin(ecl)), (q - ra + 180.0) % 360.0 - 180.0


def sun_elevation_deg(t, latitude_deg, longitude_deg, epoch_s=0):
    """The sun's elevation above the horizon in degrees (refraction not added) at t seconds
    after epoch_s (Unix time by default; the firmware passes its own seconds and
    hal.FIRMWARE_EPOCH: their sum passes 2**30 and would be a long int on a board)."""
    s = int(t) + (epoch_s - _J2000_UNIX)
    # whole days and the day's fraction apart: boards have 32-bit floats (7 digits)
    days = s // 86400
    frac = (s - days * 86400) / 86400.0
    dec, eot = _sun(days, frac)
    # days counted from noon: frac 0 is 12:00 UTC, where the hour angle at longitude 0 is eot
    hour_angle = (frac * 360.0 + longitude_deg + eot) * _RAD
    lat = latitude_deg * _RAD
    x = math.sin(lat) * math.sin(dec) + math.cos(lat) * math.cos(dec) * math.cos(hour_angle)
    return math.asin(max(-1.0, min(1.0, x))) / _RAD


def daylight(t, latitude_deg, longitude_deg, epoch_s=0):
    """(sunrise, sunset, day start, day end) in t's seconds (as sun_elevation_deg) of the
    local solar day around t (from local mean midnight to the next): the sun is up from
    sunrise to sunset (sunrise == sunset: it never rises that day; the day's bounds: it
    never sets). The sun's declination and equation of time are taken at that day's noon
    (under 1 min off at sunrise and sunset at mid latitudes). A board works it out once a
    day and then only compares integers (AlertEngine); all ints below 2**30 on a board."""
    shift = int(longitude_deg * 240.0)      # local mean time - UTC, seconds
    off = epoch_s - _J2000_UNIX
    n = (int(t) + off + shift + 43200) // 86400   # the local mean noon nearest t, days after J2000
    mean_noon = n * 86400 - shift                  # seconds after J2000, UTC
    days = mean_noon // 86400
    dec, eot = _sun(days, (mean_noon - days * 86400) / 86400.0)
    lat = latitude_deg * _RAD
    across = max(1e-9, math.cos(lat) * math.cos(dec))
    cos_h0 = (math.sin(SUN_UP_DEG * _RAD) - math.sin(lat) * math.sin(dec)) / across
    if cos_h0 >= 1.0:
        half = 0                 # polar night: never up
    elif cos_h0 <= -1.0:
        half = 43200             # midnight sun: up all the solar day
    else:
        half = int(math.acos(cos_h0) / _RAD * 240.0)
    noon = mean_noon - int(eot * 240.0) - off
    start = mean_noon - 43200 - off
    if half >= 43200:
        return start, start + 86400, start, start + 86400
    return noon - half, noon + half, start, start + 86400


def sun_up(t, latitude_deg, longitude_deg, epoch_s=0):
    """True from sunrise to sunset (the sun at or above SUN_UP_DEG, daylight) at t (as above)."""
    rise, set_, _, _ = daylight(t, latitude_deg, longitude_deg, epoch_s)
    return rise <= t < set_
