"""The host imports the very same device modules (one source of truth)."""
import os

import verdant
import verdant.hal.sim as sim
import verdant_host


def test_device_package_comes_from_device_dir():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert os.path.dirname(verdant.__file__) == os.path.join(repo, "device", "verdant")
    assert verdant_host.DEVICE_DIR == os.path.join(repo, "device")


def test_sim_clock_behaves_the_same_under_cpython():
    clock = sim.SimClock(start_s=10)
    clock.sleep_ms(1500)
    assert clock.time_s() == 11
