"""`verdant plot`: readings and alerts stored by the monitor, drawn to a PNG for a grower.

- one panel per quantity; each board has its own colour (legend), each session its own
  line: nothing is drawn across a reboot, a gap in the data or from one board to another;
- rule thresholds (verdant.rules.DEFAULT_RULES) as dashed lines, named in the legend;
- an alert timeline panel at the bottom: one row per board and alert type, a bar per
  alert period coloured by severity; an alert that never cleared is hatched, runs to the
  end of the data and is labelled "still open" (one board: its periods are also shaded
  on the quantity panels);
- more than 3 days of data: a daily summary panel on top (air temperature min-max band
  and mean per board, alerts raised per day) so 30 days read at a glance;
- the --out folder is created.
"""
import datetime
import os
import sqlite3

from verdant.rules import DEFAULT_RULES
from verdant_host.errors import VerdantError

ALERT_COLOURS = {"critical": "tab:red", "warning": "tab:orange", "info": "tab:blue"}
BOARD_COLOURS = ("tab:green", "tab:purple", "tab:brown", "tab:cyan", "tab:olive", "tab:pink", "tab:gray",
                 "tab:blue")
GAP_FACTOR = 3          # a step longer than 3x the usual spacing breaks the line
SUMMARY_AFTER_DAYS = 3


def _columns(db, table):
    return [row[1] for row in db.execute("PRAGMA table_info(%s)" % table)]


def load(db_path, quantities=None, board=None):
    """({quantity: {(board, session): ([t], [value])}}, [alert rows (t, type, severity, event, board)])."""
    if not os.path.exists(db_path):
        raise VerdantError("plot: no monitor database at %s (run `verdant monitor` or `make demo` first)" % db_path)
    try:
        db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
        has_board = "board" in _columns(db, "readings")
        extra = ", board, session" if has_board else ", NULL, NULL"
        rows = db.execute("SELECT quantity, t, value%s FROM readings ORDER BY t" % extra).fetchall()
        alert_extra = ", board" if "board" in _columns(db, "alerts") else ", NULL"
        alerts = db.execute("SELECT t, type, severity, event%s FROM alerts ORDER BY t" % alert_extra).fetchall()
    except sqlite3.Error as exc:
        raise VerdantError("plot: cannot read monitor database %s (%s)" % (db_path, exc))
    series = {}
    for quantity, t, value, row_board, session in rows:
        if (quantities and quantity not in quantities) or (board and row_board != board):
            continue
        if not isinstance(t, int) or value is None:
            continue  # a time stored as text (beyond 64 bits): not plottable
        ts, vs = series.setdefault(quantity, {}).setdefault((row_board or "board", session), ([], []))
        ts.append(t)
        vs.append(value)
    alerts = [a for a in alerts if isinstance(a[0], int) and (not board or a[4] == board)]
    return series, alerts


def alert_spans(alerts, end_t):
    """[(type, severity, start, end, open, board)] from raise/clear rows (per board and
    type); an alert never cleared ends at end_t with open=True."""
    open_alerts, spans = {}, []
    for row in alerts:
        t, kind, severity, event = row[:4]
        key = (row[4] if len(row) > 4 else None, kind)
        if event == "raise" and key not in open_alerts:
            open_alerts[key] = (t, severity)
        elif event == "clear" and key in open_alerts:
            start, sev = open_alerts.pop(key)
            spans.append((kind, sev, start, t, False, key[0]))
    for (board, kind), (start, sev) in open_alerts.items():
        spans.append((kind, sev, start, max(end_t, start), True, board))
    return sorted(spans, key=lambda s: s[2])


def split_gaps(ts, vs):
    """Lists with None inserted where the data stops for longer than GAP_FACTOR spacings."""
    if len(ts) < 3:
        return ts, vs
    steps = sorted(b - a for a, b in zip(ts, ts[1:]) if b > a)
    usual = steps[len(steps) // 2] if steps else 0
    out_t, out_v = [ts[0]], [vs[0]]
    for i in range(1, len(ts)):
        if usual and ts[i] - ts[i - 1] > GAP_FACTOR * usual:
            out_t.append(ts[i - 1] + usual)
            out_v.append(None)
        out_t.append(ts[i])
        out_v.append(vs[i])
    return out_t, out_v


def thresholds(quantity):
    """[(value, label)] of the default rules on this quantity."""
    out = []
    for name, (series, when, raise_at, _, _, _, _) in sorted(DEFAULT_RULES.items()):
        if series == quantity:
            out.append((raise_at, "%s %s %g" % (name, "<" if when == "below" else ">", raise_at)))
    return out


def daily_summary(series, alerts, quantity="air_temp_c"):
    """{board: [(day, min, mean, max)]} of one quantity and {day: alerts raised}."""
    per_board = {}
    for (board, _), (ts, vs) in series.get(quantity, {}).items():
        days = per_board.setdefault(board, {})
        for t, v in zip(ts, vs):
            days.setdefault(t // 86400, []).append(v)
    summary = {board: [(day, min(v), sum(v) / len(v), max(v)) for day, v in sorted(days.items())]
               for board, days in per_board.items()}
    raised = {}
    for row in alerts:
        if row[3] == "raise":
            raised[row[0] // 86400] = raised.get(row[0] // 86400, 0) + 1
    return summary, raised


def plot(db_path, out_png, quantities=None, board=None):
    """Draw the figure; returns the number of quantity panels."""
    series, alerts = load(db_path, quantities, board)
    if not series:
        raise VerdantError("plot: no readings in %s%s" % (
            db_path, " for %s" % ", ".join(quantities) if quantities else ""))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    all_t = [t for runs in series.values() for ts, _ in runs.values() for t in ts]
    start_t, end_t = min(all_t), max(all_t)
    spans = alert_spans(alerts, end_t)
    names = sorted(series)
    boards = sorted({b for runs in series.values() for b, _ in runs})
    colour = {b: BOARD_COLOURS[i % len(BOARD_COLOURS)] for i, b in enumerate(boards)}
    summary = end_t - start_t > SUMMARY_AFTER_DAYS * 86400
    timeline_rows = sorted({(str(sp[5] or boards[0]), str(sp[0])) for sp in spans})
    heights = ([1.4] if summary else []) + [1] * len(names) + ([0.25 + 0.18 * len(timeline_rows)] if spans else [])
    fig, axes = plt.subplots(len(heights), 1, figsize=(12, 2.0 * sum(heights) + 1.2), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    first = 1 if summary else 0
    panels = list(axes[first:first + len(names), 0])

    def when(t):
        return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)

    for ax in list(axes[first + 1:, 0]):
        ax.sharex(panels[0])
    for ax, name in zip(panels, names):
        for (run_board, _), (ts, vs) in sorted(series[name].items(), key=lambda item: item[1][0][0]):
            gt, gv = split_gaps(ts, vs)
            ax.plot([when(t) for t in gt], [float("nan") if v is None else v for v in gv], lw=1.0,
                    color=colour[run_board])
        for value, label in thresholds(name):
            ax.axhline(value, color="0.35", lw=0.8, ls="--")
            ax.annotate(label, (1.0, value), xycoords=("axes fraction", "data"), fontsize=6, color="0.3",
                        ha="right", va="bottom")
        if len(boards) == 1:  # one board: its alert periods behind its lines
            for kind, severity, start, end, is_open, _ in spans:
                ax.axvspan(when(start), when(end), color=ALERT_COLOURS.get(severity, "tab:gray"),
                           alpha=0.10, hatch="///" if is_open else None, lw=0)
        ax.set_ylabel(name, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.2)
    if spans:
        _timeline(axes[-1, 0], spans, timeline_rows, boards, when)
    axes[-1, 0].set_xlabel("board time (UTC)", fontsize=8)
    handles = [Line2D([], [], color=colour[b], lw=1.5, label="board %s" % b) for b in boards]
    handles.append(Line2D([], [], color="0.35", lw=0.8, ls="--", label="rule threshold"))
    for severity in ("critical", "warning", "info"):
        if any(s[1] == severity for s in spans):
            handles.append(Patch(color=ALERT_COLOURS[severity], alpha=0.3, label="%s alert" % severity))
    if any(s[4] for s in spans):
        handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="///", label="alert still open"))
    fig.legend(handles=handles, loc="upper right", fontsize=7, ncol=min(len(handles), 6), frameon=False)
    if summary:
        _summary_panel(axes[0, 0], series, alerts, colour, when)
    open_count = sum(1 for s in spans if s[4])
    fig.suptitle("Verdant: %d board(s), %d alert period(s), %d still open" % (len(boards), len(spans), open_count),
                 fontsize=10, x=0.01, ha="left")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    folder = os.path.dirname(os.path.abspath(out_png))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out_png, dpi=90)
    plt.close(fig)
    return len(names)


def _timeline(ax, spans, rows, boards, when):
    """One row per (board, alert type): a bar per alert period, open ones hatched."""
    index = {row: i for i, row in enumerate(rows)}
    for kind, severity, start, end, is_open, board in spans:
        y = index[(str(board or boards[0]), str(kind))]
        colour = ALERT_COLOURS.get(severity, "tab:gray")
        ax.barh(y, when(end) - when(start), left=when(start), height=0.7, color=colour, alpha=0.55,
                hatch="///" if is_open else None, edgecolor=colour if is_open else None, lw=0)
        if is_open:
            ax.annotate("still open", (when(end), y), fontsize=6, va="center", ha="right", color="0.15")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([("%s: %s" % row) if len(boards) > 1 else row[1] for row in rows], fontsize=6)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.tick_params(axis="x", labelsize=7)
    ax.set_ylabel("alerts", fontsize=8)
    ax.grid(axis="x", alpha=0.2)


def _summary_panel(ax, series, alerts, colour, when):
    quantity = "air_temp_c" if "air_temp_c" in series else sorted(series)[0]
    summary, raised = daily_summary(series, alerts, quantity)
    for board, days in sorted(summary.items()):
        x = [when(day * 86400 + 43200) for day, _, _, _ in days]
        ax.fill_between(x, [d[1] for d in days], [d[3] for d in days], color=colour[board], alpha=0.2, lw=0)
        ax.plot(x, [d[2] for d in days], color=colour[board], lw=1.2, marker="o", ms=2)
    ax.set_ylabel("daily %s\nmin-mean-max" % quantity, fontsize=8)
    ax.tick_params(labelsize=7)
    if raised:
        bars = ax.twinx()
        bars.bar([when(day * 86400 + 43200) for day in sorted(raised)], [raised[d] for d in sorted(raised)],
                 width=0.6, color="tab:red", alpha=0.35)
        bars.set_ylabel("alerts raised", fontsize=7, color="tab:red")
        bars.tick_params(labelsize=7)
    ax.set_title("daily summary", fontsize=8, loc="left")
