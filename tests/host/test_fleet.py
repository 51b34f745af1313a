"""`make fleet-demo`: virtual boards on a private Mosquitto, one fleet monitor, one SQLite."""
import io
import os
import sqlite3

import pytest

from mqtt_helpers import broker  # noqa: F401  (fixture: skips without mosquitto)
from verdant_host import paths
from verdant_host.fleet_demo import run_fleet


def test_fleet_demo_two_boards_nothing_lost(broker, tmp_path):
    if not os.path.exists(paths.micropython()):
        pytest.skip("micropython Unix port not found at %s (set MICROPYTHON)" % paths.micropython())
    out = io.StringIO()
    figures = run_fleet(boards=2, hours=8, speed=20000, work_dir=str(tmp_path / "fleet"), broker_url=broker.url,
                        out=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert last == "fleet: 2 boards, %d messages, %d alerts, 0 lost" % (figures["messages"], figures["alerts"])
    assert figures["messages"] == figures["sent"] > 40  # every line the boards sent is in the database
    db = sqlite3.connect(str(tmp_path / "fleet" / "fleet.sqlite"))
    per_board = dict(db.execute("SELECT board, count(*) FROM messages GROUP BY board"))
    assert sorted(per_board) == ["gh-01", "gh-02"] and sum(per_board.values()) == figures["messages"]
    sessions = db.execute("SELECT board, count(*) FROM sessions GROUP BY board").fetchall()
    assert sessions == [("gh-01", 1), ("gh-02", 1)]
    assert db.execute("SELECT count(*) FROM readings WHERE session IS NULL OR board IS NULL").fetchone() == (0,)
