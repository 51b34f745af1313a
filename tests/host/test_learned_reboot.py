"""A real reboot of the virtual board (the firmware in the MicroPython Unix port on a
filesystem folder, verdant_host.simboard): the board is stopped and started again on the
same folder, and the normal band restored from learned.bin (verdant.learnedstate) alerts a
heating failure two hours after the reboot; the same reboot without the file stays blind."""
import os
import shutil

import pytest

from verdant.protocol import decode
from verdant_host import greenhouse, paths, vboard_scenario
from verdant_host.simboard import SimBoard

MICROPYTHON = paths.micropython()
HOUR = 3600
FAILURE_AT = (24 + 22) * HOUR  # the boiler fails at 22:00 on the second night
REBOOT_AT = (24 + 20) * HOUR
END = FAILURE_AT + 3 * HOUR


def lines(folder):
    with open(os.path.join(folder, "serial.log"), "rb") as f:
        return [m for m, _ in (decode(raw) for raw in f.read().split(b"\n")) if m is not None]


def cold_raises_min(folder, start):
    return [(m["t"] - start - FAILURE_AT) / 60 for m in lines(folder)
            if m["k"] == "alert" and m["p"]["type"] == "cold_anomaly" and m["p"]["event"] == "raise"]


def test_the_band_judges_right_after_a_real_reboot_and_not_without_its_file(tmp_path):
    if not os.path.exists(MICROPYTHON):
        pytest.skip("micropython Unix port not found at %s (set MICROPYTHON)" % MICROPYTHON)
    scenario = greenhouse.Scenario(seed=7, days=2.2, start_doy=20.0, events=[
        greenhouse.Event("heating_failure", float(FAILURE_AT), 7 * 3600.0, None)])
    truth = str(tmp_path / "truth.csv")
    start = vboard_scenario.write_truth_csv(truth, scenario)
    rebooted, blind = str(tmp_path / "rebooted"), str(tmp_path / "blind")
    SimBoard(rebooted, truth, speed=1e6, seconds=REBOOT_AT, start_s=start).start().wait(timeout=300)
    assert os.path.getsize(os.path.join(rebooted, "learned.bin")) == 1320
    shutil.copytree(rebooted, blind)
    os.remove(os.path.join(blind, "learned.bin"))
    for folder in (rebooted, blind):  # the same folder, a new process 5 minutes later
        SimBoard(folder, truth, speed=1e6, seconds=END - REBOOT_AT - 300, start_s=start + REBOOT_AT + 300,
                 fresh=False).start().wait(timeout=300)
    learned = [m["p"] for m in lines(rebooted) if m["k"] == "status" and "learned" in m["p"]]
    assert len(learned) == 1 and learned[0]["learned"] == "restored" and learned[0]["band_days"] == 1, learned
    raised = cold_raises_min(rebooted, start)
    assert raised and 0 < raised[0] <= 45, raised  # as the unbroken board: 30 min on this night
    assert cold_raises_min(blind, start) == []
    assert not [m for m in lines(blind) if m["k"] == "status" and "learned" in m["p"]]
