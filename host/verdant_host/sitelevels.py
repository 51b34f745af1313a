"""The site model's label gates (metadata "levels" and "label_gates", applied by verdant.alerts):
a forecaster label alerts only while its quantity is beyond the range the history held at that
hour of the day and the hours either side, below it for a drop, above it for a rise.

A few days of history do not hold every day's weather: a sunnier noon, a colder morning, a
heating pulse on a dull day take the air past the range the history days held without any
fault. How far is measured on the history itself, leave one day out: each day in turn, at each
hour, against the range the other days held at that hour (+-1 h). The largest such excursion
(per quantity, below and above) is how far a day the history did not contain went beyond the
range of those it did; the gates sit that much beyond the history's own range ("widening").
A failing heater, a stuck CO2 valve or a jumping sensor go on past it; a day of other weather
stays inside.

Measured on the GreenLight dev splits (96 greenhouses' 3-10 day scenarios after 4-7 history
days): without the widening the forecaster raised 3 false claims (dev4: temp_drop_30m on a dark
morning 1.1 degC under the history's range, temp_rise_10m and _30m on a heating pulse 0.8-1.1
degC over it), with it none, and the stuck CO2 valves are still the first alert at 10-15 min.

    levels, table = hourly_levels(ts, readings, ["air_temp_c", "co2_ppm"])
"""
import numpy as np

HOUR_S = 3600
DAY_S = 86400
SHORT = {"air_temp_c": "temp", "co2_ppm": "co2", "rh_pct": "rh"}


def _near(hours, h):
    """The hour and the hours either side (the board's gate at hour h covers these)."""
    return np.isin(hours, ((h - 1) % 24, h, (h + 1) % 24))


def widening(ts, values):
    """(below, above): the largest distance by which one history day, at one hour, went beyond
    the range the other days held at that hour (+-1 h); 0 with a single day."""
    ts = np.asarray(ts, dtype=np.int64)
    v = np.asarray(values, dtype=float)
    hours = (ts // HOUR_S) % 24
    day = (ts - ts[0]) // DAY_S
    below = above = 0.0
    ok = np.isfinite(v)
    for d in np.unique(day):
        others = ok & (day != d)
        for h in range(24):
            mine = ok & (day == d) & (hours == h)
            ref = others & _near(hours, h)
            if not mine.any() or not ref.any():
                continue
            below = max(below, float(v[ref].min() - v[mine].min()))
            above = max(above, float(v[mine].max() - v[ref].max()))
    return below, above


def hourly_levels(ts, readings, targets):
    """({quantity: {"low": 24, "high": 24}}, [report rows]): per hour of the day (UTC, as the
    board's clock), the range the history held at that hour and the hours either side, widened
    by widening() on each side: a label alerts only beyond it."""
    ts = np.asarray(ts, dtype=np.int64)
    hours = (ts // HOUR_S) % 24
    out, table = {}, []
    for q in targets:
        v = np.asarray(readings[q], dtype=float)
        below, above = widening(ts, v)
        lo, hi = [], []
        for h in range(24):
            sel = _near(hours, h) & np.isfinite(v)
            pick = v[sel] if sel.any() else v[np.isfinite(v)]
            lo.append(round(float(pick.min()) - below, 2))
            hi.append(round(float(pick.max()) + above, 2))
        out[q] = {"low": lo, "high": hi}
        table.append({"quantity": q, "below": round(below, 2), "above": round(above, 2),
                      "low_range": [min(lo), max(lo)], "high_range": [min(hi), max(hi)]})
    return out, table


def label_gates(labels):
    """{label: [quantity, "above" | "below"]}: a rise alerts only above the hour's range, a drop
    only below it (verdant.alerts)."""
    full = {short: q for q, short in SHORT.items()}
    gates = {}
    for label in labels:
        short, way = label.split("_")[:2]
        gates[label] = [full[short], "above" if way == "rise" else "below"]
    return gates


def levels_report(table, days):
    """The report's section on the gates."""
    if not table:
        return []
    lines = ["## The level gates (when a label may alert)", "",
             "A label alerts only while its quantity is also beyond the range the history held at that hour of "
             "the day (+-1 h): below it for a drop, above it for a rise. A change faster than forecast that keeps "
             "the air within its usual range (vents or screens taking a warm morning's surplus away) is no fault. "
             "%d days do not hold every day's weather, so each range is widened by how far one history day went "
             "beyond the range of the other days at the same hour (each day held back in turn, the largest "
             "excursion at any hour): a sunnier noon, a colder morning or a heating pulse stays inside; a failing "
             "heater, a stuck valve or a jumping sensor go on past it." % days, "",
             "| quantity | widened below by | widened above by | gate low over the day | gate high over the day |",
             "| --- | --- | --- | --- | --- |"]
    for row in table:
        lines.append("| %s | %s | %s | %s .. %s | %s .. %s |" % (
            row["quantity"], row["below"], row["above"], row["low_range"][0], row["low_range"][1],
            row["high_range"][0], row["high_range"][1]))
    return lines + [""]
