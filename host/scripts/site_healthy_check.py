"""Does the site-adapted path raise false claims on healthy greenhouses it has not seen?

The train split (data/greenlight/train) has no site histories, so each fault-free greenhouse
(index % 4 == 3) of 4 days or more is cut in two: its first 3 days are the history
`verdant train --site` learns from, the rest is replayed through the firmware with that site
model (the board starts afresh at day 3). Prints the healthy days replayed, every warning and
every false claim (a warning naming an equipment or sensor fault, as verdant_host.fieldeval
counts them). A few minutes on 2 cores (12 site models).

    PYTHONPATH=host .venv/bin/python host/scripts/site_healthy_check.py [--out build/site-healthy]

Never reads the test splits (data/greenlight/test*): they are measured once, by the lead.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "..", "..", "data", "greenlight", "train")
HISTORY_DAYS = 3


def split_rows(path, t0, days):
    """(header, history rows, later rows) of a scenario CSV cut at t0 + days."""
    with open(path) as f:
        lines = f.read().splitlines()
    cut = t0 + days * 86400
    body = lines[1:]
    return (lines[0], [r for r in body if int(r.split(",")[0]) < cut],
            [r for r in body if int(r.split(",")[0]) >= cut])


def main(argv=None):
    from verdant_host import fieldeval, sitemodel
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join("build", "site-healthy"))
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(TRAIN, "manifest.json")) as f:
        scenarios = json.load(f)["scenarios"]
    days, warnings, claims = 0, [], []
    for meta in scenarios:
        if meta["index"] % 4 != 3 or meta["fault"] or meta["days"] <= HISTORY_DAYS:
            continue
        head, history, later = split_rows(os.path.join(TRAIN, "scenario_%02d.csv" % meta["index"]),
                                          meta["t0_unix"], HISTORY_DAYS)
        stem = os.path.join(args.out, "scenario_%02d" % meta["index"])
        for suffix, rows in (("_history.csv", history), ("_later.csv", later)):
            with open(stem + suffix, "w") as f:
                f.write("\n".join([head] + rows) + "\n")
        sitemodel.train_site(stem + "_history.csv", stem + "_site")
        days += meta["days"] - HISTORY_DAYS
        for t, typ, severity, event, source in fieldeval.firmware_alerts(
                stem + "_later.csv", os.path.join(stem + "_site", "model.bin")):
            if event != "raise" or severity not in ("warning", "critical"):
                continue
            where = (meta["index"], typ, source, round((t - meta["t0_unix"]) / 3600.0, 2))
            warnings.append(where)
            if typ not in fieldeval.CONDITION_TYPES:
                claims.append(where)
    print("healthy days replayed with a site model: %d (%.2f weeks)" % (days, days / 7.0))
    print("warnings (scenario, type, source, hour): %s" % (warnings or "none"))
    print("false claims: %d (%.2f per week) %s" % (len(claims), len(claims) * 7.0 / max(days, 1), claims or ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
