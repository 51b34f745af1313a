# Bytes allocated per 15-minute feature step on the board's path (FeatureState.for_model
# add + model input + Engine.predict of the default model) and per inference.
# Run: cd tests/device && MICROPYPATH=../../device micropython bench_sample_alloc.py
import gc
from verdant import engine
from verdant.features import FeatureState

net = engine.load("../../models/default/model.bin")
state = FeatureState.for_model(net.meta, ("vpd_kpa", "dew_point_c", "dli_mol_m2", "rh_pct", "soil_moisture_pct"))
reading = {"air_temp_c": 21.35, "rh_pct": 68.2, "co2_ppm": 612.0, "light_lux": 15800.0,
           "soil_moisture_pct": 38.5, "soil_temp_c": 17.25}
t = 1767225600
for i in range(14):
    t += 900
    state.add(t, reading)
floats, _ = state.model.vector()
net.predict(floats)


def per_call(func, runs=20):
    gc.collect()
    before = gc.mem_alloc()
    for _ in range(runs):
        func()
    return (gc.mem_alloc() - before) // runs


def feature_step():
    global t
    t += 900
    state.add(t, reading)
    state.model.vector()


print("features + model input per 15-min step: %d bytes" % per_call(feature_step))
print("Engine.predict (%s) per inference: %d bytes" % (net.backend, per_call(lambda: net.predict(floats))))
