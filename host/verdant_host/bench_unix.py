"""`make bench`, Unix-port part: every engine backend timed in ONE MicroPython process,
in interleaved rounds, through both calls the firmware can make (`predict_int8` and
`predict(floats)`), plus heap bytes per call.

Each round times one batch per (backend, call), in an order rotated every round, so a
burst of load on the shared machine hits every backend alike; the report gives the
median per call and the min-max over rounds, and python/natmod and python/viper
ratios per round (median and min-max).
"""
import json
import os
import statistics
import tempfile

ROUNDS = 15
BATCH_US = 20000  # each batch lasts at least this long
CALLS = ("predict_int8", "predict")

_SCRIPT = """
import gc, json, sys, time
for p in %(paths)r:
    sys.path.insert(0, p)
from verdant import engine
buf = open(%(model)r, 'rb').read()
backends = [b for b in %(backends)r]
nets = {b: engine.load(buf, backend=b) for b in backends}
n_in = nets[backends[0]].input_elements
inp = bytes((i * 37 + 11) & 255 for i in range(n_in))
feats = [((i * 37 + 11) %% 23 - 11) * 0.25 for i in range(n_in)]

def batch(net, call, n):
    f = net.predict_int8 if call == 'predict_int8' else net.predict
    x = inp if call == 'predict_int8' else feats
    t0 = time.ticks_us()
    for _ in range(n):
        f(x)
    return time.ticks_diff(time.ticks_us(), t0)

calls = %(calls)r
runs = {}
for b in backends:
    for c in calls:
        n = 1
        while batch(nets[b], c, n) < %(batch_us)d and n < 1 << 20:
            n *= 2
        runs[b, c] = n
times = {}
for r in range(%(rounds)d):
    order = backends[r %% len(backends):] + backends[:r %% len(backends)]
    for b in order:
        for c in calls:
            times.setdefault(b + ' ' + c, []).append(batch(nets[b], c, runs[b, c]) / runs[b, c])
heap = {}
for b in backends:
    for c in calls:
        f = nets[b].predict_int8 if c == 'predict_int8' else nets[b].predict
        x = inp if c == 'predict_int8' else feats
        for _ in range(20):
            f(x)
        gc.collect()
        gc.disable()
        before = gc.mem_alloc()
        for _ in range(100):
            f(x)
        heap[b + ' ' + c] = (gc.mem_alloc() - before) / 100
        gc.enable()
if 'natmod' in nets:
    import verdant_nn
    net = nets['natmod']
    model, arena, out = net.model.buf, net._arena, bytearray(net.output_elements)
    for _ in range(20):
        verdant_nn.run(model, arena, inp, out)
    gc.collect()
    gc.disable()
    before = gc.mem_alloc()
    for _ in range(100):
        verdant_nn.run(model, arena, inp, out)
    heap['natmod verdant_nn.run'] = (gc.mem_alloc() - before) / 100
    gc.enable()
print(json.dumps({'times': times, 'heap': heap, 'runs': [[b, c, n] for (b, c), n in runs.items()]}))
"""


def measure(step, micropython, model_path, backends, paths, workdir):
    """{'times': {"backend call": [us per call per round]}, 'heap': {...}} from one process."""
    script = _SCRIPT % {"paths": paths, "model": model_path, "backends": list(backends), "calls": CALLS,
                        "rounds": ROUNDS, "batch_us": BATCH_US}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, dir=workdir) as f:
        f.write(script)
    out = step.run(["nice", "-n", "10", micropython, "-X", "heapsize=8M", f.name])
    return json.loads(out.strip().splitlines()[-1])


def spread(values):
    """'median (min-max)' of a list of floats."""
    return "%.1f (%.1f-%.1f)" % (statistics.median(values), min(values), max(values))


def ratio_spread(slow, fast):
    """Per-round ratios slow/fast: (median, 'median x (min-max)')."""
    ratios = [s / f for s, f in zip(slow, fast)]
    med = statistics.median(ratios)
    return med, "%.0fx (%.0f-%.0f)" % (med, min(ratios), max(ratios)) if med >= 50 else \
        "%.1fx (%.1f-%.1f)" % (med, min(ratios), max(ratios))


def table(results, backends):
    """Markdown rows: model, call, one 'median (min-max)' per backend, ratios. Returns (lines, ratios)."""
    head = ["| model | call | " + " | ".join("%s us" % b for b in backends) +
            " | python / natmod | python / viper |",
            "| --- | --- | " + " | ".join("---" for _ in backends) + " | --- | --- |"]
    ratios = {}
    for name, res in results.items():
        times = res["times"]
        for call in CALLS:
            cells = [spread(times["%s %s" % (b, call)]) if "%s %s" % (b, call) in times else "not built"
                     for b in backends]
            py = times.get("python " + call)
            r_nat = ratio_spread(py, times["natmod " + call]) if "natmod " + call in times else (None, "-")
            r_vip = ratio_spread(py, times["viper " + call])
            ratios[name, call] = (r_nat[0], r_vip[0])
            head.append("| %s | `%s` | %s | %s | %s |" % (name, call, " | ".join(cells), r_nat[1], r_vip[1]))
    return head, ratios


def natmod_paths(repo):
    """sys.path entries for the engine and the x64 native module (None when not built)."""
    import glob
    found = sorted(glob.glob(os.path.join(repo, "dist", "x64_*", "verdant_nn.mpy")))
    return [os.path.join(repo, "device")] + ([os.path.dirname(found[-1])] if found else []), bool(found)
