"""`verdant plot`: readings and alerts stored by the monitor, drawn to a PNG."""
import datetime
import sqlite3

from verdant_host.errors import VerdantError

ALERT_COLOURS = {"critical": "tab:red", "warning": "tab:orange", "info": "tab:blue"}


def load(db_path, quantities=None):
    """({quantity: ([t], [value])}, [alert rows (t, type, severity, event)]) from the database."""
    try:
        db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
        rows = db.execute("SELECT quantity, t, value FROM readings ORDER BY quantity, t").fetchall()
        alerts = db.execute("SELECT t, type, severity, event FROM alerts ORDER BY t").fetchall()
    except sqlite3.Error as exc:
        raise VerdantError("plot: cannot read monitor database %s (%s)" % (db_path, exc))
    series = {}
    for quantity, t, value in rows:
        if quantities and quantity not in quantities:
            continue
        ts, vs = series.setdefault(quantity, ([], []))
        ts.append(t)
        vs.append(value)
    return series, alerts


def alert_spans(alerts, end_t):
    """[(type, severity, start, end)] from raise/clear rows; an alert still active ends at end_t."""
    open_alerts, spans = {}, []
    for t, kind, severity, event in alerts:
        if event == "raise" and kind not in open_alerts:
            open_alerts[kind] = (t, severity)
        elif event == "clear" and kind in open_alerts:
            start, sev = open_alerts.pop(kind)
            spans.append((kind, sev, start, t))
    for kind, (start, sev) in open_alerts.items():
        spans.append((kind, sev, start, end_t))
    return sorted(spans, key=lambda s: s[2])


def plot(db_path, out_png, quantities=None):
    """Draw one panel per quantity with alert spans shaded; returns the number of panels."""
    series, alerts = load(db_path, quantities)
    if not series:
        raise VerdantError("plot: no readings in %s%s" % (
            db_path, " for %s" % ", ".join(quantities) if quantities else ""))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    end_t = max(ts[-1] for ts, _ in series.values())
    spans = alert_spans(alerts, end_t)
    names = sorted(series)
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 1.9 * len(names) + 0.8), sharex=True, squeeze=False)

    def when(t):
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)

    for ax, name in zip(axes[:, 0], names):
        ts, vs = series[name]
        ax.plot([when(t) for t in ts], vs, lw=1.0, color="tab:green")
        ax.set_ylabel(name, fontsize=8)
        for kind, severity, start, end in spans:
            ax.axvspan(when(start), when(end), color=ALERT_COLOURS.get(severity, "tab:gray"), alpha=0.15)
    for kind, severity, start, _ in spans:
        axes[0, 0].annotate(kind, (when(start), 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                            rotation=20, va="bottom", color=ALERT_COLOURS.get(severity, "tab:gray"))
    axes[-1, 0].set_xlabel("board time (UTC)")
    fig.suptitle("Verdant readings and alerts (%d alert span(s))" % len(spans), fontsize=10)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return len(names)
