"""The energy bench's on-board script times firmware stages by wrapping methods: each
wrapped method must be the one the app calls (a renamed method would time nothing and
the sensor stage would come out negative)."""
import re

from verdant.app import App
from verdant.modelslot import ModelSlot
from verdant.sampler import Sampler
from verdant_host import bench_energy

OWNERS = {"app": App, "app.sampler": Sampler, "app.model": ModelSlot}


def test_every_timed_stage_wraps_a_method_the_app_calls():
    stages = re.findall(r"^stage\('(\w+)', ([\w.]+), '(\w+)'\)$", bench_energy._SCRIPT, re.M)
    assert [name for name, _, _ in stages] == ["sensors", "sample", "model_check", "sleep"]
    app_source = open(App.step.__code__.co_filename).read()
    for name, owner, method in stages:
        assert hasattr(OWNERS[owner], method), (name, owner, method)
        called = "self.%s(" % method if owner == "app" else "%s.%s(" % (owner.replace("app.", "self."), method)
        assert called in app_source, "%s: the app never calls %s" % (name, called)


def test_the_drivers_waits_are_counted_before_the_app_builds_its_sensors():
    # the drivers' wait takes the clock's sleep_ms and the HAL's lightsleep when the app is made:
    # wrappers installed later would count nothing
    script = bench_energy._SCRIPT
    made = script.index("app = appmod.App(")
    assert script.index("hal.clock.sleep_ms = counted_sleep_ms") < made
    assert script.index("hal.lightsleep = counted_lightsleep") < made


def _per_sample(**waits):
    figures = {"instructions": 10e6, "bus_ms": 120.0, "wait_ms": 0.0, "light_wait_ms": 0.0, "light_waits": 0,
               "app_light_sleeps": 0}
    figures.update(waits)
    return figures


def test_waits_in_light_sleep_cost_the_sleep_current_plus_each_way_in_and_out():
    busy = bench_energy.energy_rows(_per_sample(wait_ms=5000.0))
    light = bench_energy.energy_rows(_per_sample(light_wait_ms=5000.0, light_waits=40))
    for b_row, l_row in zip(busy, light):
        b = b_row["board_figures"]
        # 5 s moved from the active to the sleep current, less 40 wake-ups spent awake
        awake_s = 5.0 - 40 * b["wake_ms"] / 1000
        saved_mj = b["volts"] * (b["active_ma"] - b["sleep_ma"]) * awake_s
        assert abs((b_row["mj"] - l_row["mj"]) - saved_mj) < 1e-6, b_row["board"]
        assert abs(b_row["awake_ms"] - l_row["awake_ms"] - 1000 * awake_s) < 1e-6
        assert l_row["days"][0][1] > b_row["days"][0][1]


def test_a_board_config_without_light_sleep_is_awake_all_the_period():
    for row in bench_energy.energy_rows(_per_sample(wait_ms=5612.0, sleep_mode="none")):
        b = row["board_figures"]
        assert abs(row["mj"] - b["volts"] * b["active_ma"] * bench_energy.PERIOD_S) < 1e-6, row["board"]
