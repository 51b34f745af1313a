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
