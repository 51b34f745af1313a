"""`make bench`: measures the int8 engine, the native kernel and the firmware side by side,
in one run, and rewrites the marked block of BENCHMARKS.md. Every figure is printed with
the exact command that made it.

    python -m verdant_host.bench [--out BENCHMARKS.md] [--mpy-dir DIR]

Figures: microseconds and heap bytes per call of every backend (natmod, viper, python),
predict_int8 and predict(floats), interleaved rounds in one MicroPython Unix-port process
(bench_unix.py), on the shipped models/default/model.bin and a Conv1D net (built and
converted here); whole-model instructions per MAC on Cortex-M0+/M4/M33 under QEMU
(bench_qemu.py); the Cortex-M0+ inner loop (objdump) and .text bytes; x64 instructions per
MAC (valgrind); model file vs .tflite bytes; with --mpy-dir, the firmware's instructions per
15-minute sample on MicroPython's qemu port and the energy per sample (bench_energy.py).
"""
import argparse
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

from verdant_host import paths

REPO = paths.REPO_DIR
TARGETS = {"natmod_vs_python": 100.0, "viper_vs_python": 20.0, "instructions_per_mac": 6.0,
           "text_bytes": 3072, "file_vs_tflite": 0.25, "heap_bytes": 0}
BACKENDS = ("natmod", "viper", "python")


class Step:
    """One measured figure and the command that produced it."""

    def __init__(self):
        self.commands = []

    def run(self, cmd, cwd=REPO, env=None, timeout=900):
        self.commands.append(" ".join(shlex.quote(c) for c in cmd))
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s%s" % (cmd[0], proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout


# ---------------------------------------------------------------- models

def conv1d_tflite():
    """A small Conv1D net (12 steps x 6 features): conv-relu, depthwise, maxpool, conv, GAP, dense softmax."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import keras
    keras.utils.set_random_seed(1)
    inp = keras.Input((12, 6))
    x = keras.layers.Conv1D(16, 3, padding="same", activation="relu")(inp)
    x = keras.layers.DepthwiseConv1D(3, padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling1D(2)(x)
    x = keras.layers.Conv1D(16, 3, padding="valid", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    out = keras.layers.Dense(9, activation="softmax")(x)
    model = keras.Model(inp, out)
    rng = np.random.default_rng(1)
    samples = [rng.normal(0, 1, (1, 12, 6)).astype(np.float32) for _ in range(32)]
    from verdant_host.int8_tflite import convert_int8
    return convert_int8(model, samples)


def models(workdir):
    """name -> (model file path, model bytes, tflite bytes, description, ExportReport).
    "default" is the shipped models/default/model.bin itself; its report (MACs, weights,
    arena) comes from exporting the .tflite it was made from (same layers, no metadata)."""
    from verdant_host.export import export_with_report
    default_dir = os.path.join(REPO, "models", "default")
    with open(os.path.join(default_dir, "model.tflite"), "rb") as f:
        mlp = f.read()
    with open(os.path.join(default_dir, "model.bin"), "rb") as f:
        shipped = f.read()
    found = {}
    for name, tflite, what in (("default", mlp, "the shipped models/default/model.bin (MLP, with metadata)"),
                               ("conv1d", conv1d_tflite(), "Conv1D net built in verdant_host.bench.conv1d_tflite")):
        model, report = export_with_report(tflite)
        if name == "default":
            model = shipped
        path = os.path.join(workdir, name + paths.MODEL_SUFFIX)
        with open(path, "wb") as f:
            f.write(model)
        found[name] = (path, model, tflite, what, report)
    return found


# ---------------------------------------------------------------- native figures

def size_sections(out):
    """{file: {section: bytes}} from `arm-none-eabi-size -A` output."""
    files, current = {}, None
    for line in out.splitlines():
        parts = line.split()
        if line.rstrip().endswith(":") and len(parts) >= 1:
            current = os.path.basename(parts[0].rstrip(":"))
            files[current] = {}
        elif current and len(parts) >= 2 and parts[1].isdigit():
            files[current][parts[0]] = files[current].get(parts[0], 0) + int(parts[1])
    return files


def m0_text_bytes(step):
    """Cortex-M0+ -Os kernel + parser + MAC loop: .text and .rodata summed over the objects,
    .text per object, and .text/.rodata of the objects linked with libgcc as mpy_ld links a
    .mpy (every section kept, libgcc members pulled in for undefined symbols) with the list
    of libgcc members that link pulled in."""
    step.run(["make", "-s", "native-size"])
    objs = ["build/native/m0size/%s.o" % n for n in ("nn_model", "nn_kernel", "nn_dot4_thumb")]
    files = size_sections(step.run(["arm-none-eabi-size", "-A"] + objs))
    per_object = {name: sum(v for k, v in secs.items() if k.startswith(".text")) for name, secs in files.items()}
    rodata = sum(v for secs in files.values() for k, v in secs.items() if k.startswith(".rodata"))
    elf = size_sections(step.run(["arm-none-eabi-size", "-A", "build/native/m0size/kernel.elf"]))["kernel.elf"]
    with open(os.path.join(REPO, "build", "native", "m0size", "kernel.map")) as f:
        helpers = sorted(set(re.findall(r"libgcc\.a\(([^)]*)\)", f.read())))
    return {"text": sum(per_object.values()), "rodata": rodata, "per_object": per_object,
            "linked_text": elf.get(".text", 0), "linked_rodata": elf.get(".rodata", 0), "helpers": helpers}


def m0_instructions_per_mac(step):
    """Static count: the instructions of the inner loop (branch target .. backward branch) / MACs per pass."""
    out = step.run(["arm-none-eabi-objdump", "-d", "build/native/m0size/nn_dot4_thumb.o"])
    lines = [ln for ln in out.splitlines() if re.match(r"^\s+[0-9a-f]+:\s", ln)]
    addr = [int(ln.split(":")[0], 16) for ln in lines]
    for i, ln in enumerate(lines):
        m = re.search(r"\bbne(?:\.n)?\s+([0-9a-f]+)", ln)
        if m:
            start = addr.index(int(m.group(1), 16))
            body = [re.sub(r"\s+", " ", x.split("\t", 2)[-1]).strip() for x in lines[start:i + 1]]
            muls = sum(1 for b in body if b.startswith("muls"))
            return len(body) / muls, body
    raise RuntimeError("no loop found in nn_dot4_thumb.o")


def m0_dynamic_instructions_per_mac(step, workdir):
    """Executed instructions per MAC on the Cortex-M0+ runner under QEMU: one FC model (768 x 16),
    2 and then 6 inputs; -singlestep -d exec logs one line per executed instruction, and the
    difference over the difference in MACs counts the whole inference path per MAC (loop, calls,
    requantization), not just the inner loop."""
    import shutil
    if shutil.which("qemu-system-arm") is None:
        return None
    from verdant_host import model_builder as builder
    step.run(["make", "-s", "native-qemu"])
    depth, outputs = 768, 16
    lay = builder.layer("fc", (1, 1, depth), (1, 1, outputs), weights=[(i * 7) % 255 - 127 for i in range(outputs * depth)],
                        multipliers=[1 << 30], shifts=[-8])
    counts = {}
    for n in (2, 6):
        run_dir = os.path.join(workdir, "qemu%d" % n)
        os.makedirs(run_dir)
        with open(os.path.join(run_dir, "model.bin"), "wb") as f:
            f.write(builder.build([lay]))
        with open(os.path.join(run_dir, "input.bin"), "wb") as f:
            f.write(bytes((i * 37 + 11) & 255 for i in range(depth)) * n)
        cmd = ["qemu-system-arm", "-M", "mps2-an385", "-cpu", "cortex-m3", "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config", "enable=on,target=native", "-singlestep",
               "-d", "exec,nochain", "-D", "/dev/stdout", "-kernel", os.path.join(REPO, "build/native/m0/nn_runner.elf")]
        step.commands.append("cd %s && %s | grep -c ^Trace" % (run_dir, " ".join(cmd)))
        proc = subprocess.Popen(cmd, cwd=run_dir, stdout=subprocess.PIPE)
        counts[n] = sum(1 for line in proc.stdout if line.startswith(b"Trace"))
        if proc.wait() != 0:
            raise RuntimeError("qemu runner failed (%d)" % proc.returncode)
    return (counts[6] - counts[2]) / (4 * outputs * depth)


def x64_valgrind_ir(step, workdir):
    """Marginal instructions per MAC on x64 (gcc -O2), valgrind: two FC models that differ only in depth."""
    import shutil
    if shutil.which("valgrind") is None:
        return None
    from verdant_host import model_builder as builder
    step.run(["make", "-s", "native-bench"])
    totals = {}
    for depth in (256, 1280):
        lay = builder.layer("fc", (1, 1, depth), (1, 1, 16), weights=[(i * 7) % 255 - 127 for i in range(16 * depth)],
                            multipliers=[1 << 30], shifts=[-8])
        model = os.path.join(workdir, "fc%d" % depth + paths.MODEL_SUFFIX)
        with open(model, "wb") as f:
            f.write(builder.build([lay]))
        inputs = os.path.join(workdir, "fc%d.in" % depth)
        with open(inputs, "wb") as f:
            f.write(bytes(range(256)) * (depth // 256) * 20)
        cg = os.path.join(workdir, "cg.%d" % depth)
        step.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg, "build/native/bench/nn_runner",
                  model, inputs, os.path.join(workdir, "out.bin")])
        with open(cg) as f:
            m = re.search(r"^summary:\s+(\d+)", f.read(), re.M)
        totals[depth] = int(m.group(1))
    return (totals[1280] - totals[256]) / (20 * 16 * (1280 - 256))


# ---------------------------------------------------------------- report

def fmt_ok(ok):
    return "met" if ok else "NOT met"


def energy_lines(energy):
    from verdant_host import bench_energy as be
    if energy is None:
        return ["", "## Energy per sample", "", "Not measured: give `--mpy-dir` (or MPY_DIR) with the qemu port built "
                "by `make bench-qemu-firmware MPY_DIR=...`.", ""]
    rows = be.energy_rows(energy)
    lines = ["", "## Energy per sample (firmware on MicroPython's qemu port, QEMU icount)", "",
             "| figure | value | command |", "| --- | --- | --- |",
             "| instructions per 15-minute sample, whole firmware (%s engine) | %.2f million (%.1f wake-ups, %.1f protocol lines per sample) | `make bench-qemu-firmware MPY_DIR=...`, then `%s` with the script `verdant_host.bench_energy._SCRIPT` on its raw REPL: `time.ticks_us()` around `app.run(%d * %d)` after a %d-sample warm-up; with `-icount shift=0` one instruction is 1 ns, so us x 1000 / %d = instructions per sample |" % (
                 energy["backend"], energy["instructions"] / 1e6, energy["wakes"], energy["lines"],
                 energy["command"], be.SAMPLES, be.PERIOD_S, 14, be.SAMPLES),
             "| of which: sensor reads (drivers, sampler) / feature step (features, model, rules, protocol line, flash log) / sleeping in watchdog-sized chunks (light sleep calls, watchdog feeds) / model file check | %s | the same run: `time.ticks_us()` around `Sampler.poll`, `App.sample`, `App.sleep_until`, `ModelSlot.poll` (the rest: the loop itself) |" % " / ".join(
                 "%.2f M" % (energy["stages"].get(k, 0) / 1e6) for k in ("sensors", "sample", "sleep", "model_check")),
             "| simulated parts and buses, taken out of the count above | %.2f million instructions | the same run: `time.ticks_us()` around every call into the simulated I2C/1-Wire/ADC objects (they stand in for C drivers and sensor chips), plus the timing wrapper's own cost |" % (energy["simulated"] / 1e6),
             "| bus time per sample (I2C at 100 kHz, 1-Wire standard speed; CPU waits) | %.0f ms (%.0f I2C bytes, %.0f 1-Wire bytes) | the same run: bytes through the simulated buses x 9 bit times (I2C) or 8 x 70 us slots (1-Wire), 960 us per 1-Wire reset |" % (
                 energy["bus_ms"], energy["i2c_bytes"], energy["ow_bytes"]),
             "| sensor conversion waits per sample, as the firmware spends them (board config sleep_mode %s) | %.0f ms busy (CPU awake), %.0f ms in light sleep (%.1f light sleeps) | the same run: the simulated clock's `sleep_ms` and the HAL's `lightsleep` called outside the app's own sleep; the drivers wait through `verdant.convwait.ConversionWait`: waits of %d ms or more in light sleep where the board config allows it, shorter ones busy |" % (
                 energy.get("sleep_mode", "?"), energy["wait_ms"], energy.get("light_wait_ms", 0),
                 energy.get("light_waits", 0), _light_wait_min_ms()),
             "", "| board | clock | CPU time per sample | awake per sample (CPU + bus + busy sensor waits + light-sleep entries) | energy per sample | share asleep | days on %s | days on %s |" % (
                 be.BATTERIES[0][0], be.BATTERIES[1][0]),
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        b = row["board_figures"]
        lines.append("| %s | %.0f MHz, %.1f mA active, %.2f mA light sleep at %.1f V | %.1f ms | %.1f ms (of which %.1f ms getting in and out of light sleep) | %.1f mJ | %.0f %% | %.0f | %.0f |" % (
            row["board"], b["clock_hz"] / 1e6, b["active_ma"], b["sleep_ma"], b["volts"], row["cpu_ms"],
            row["awake_ms"], row["wake_ms"], row["mj"], 100 * row["sleep_share"], row["days"][0][1], row["days"][1][1]))
    lines += ["", "Method: CPU time = instructions x %.1f cycles per instruction (an assumption for MicroPython's VM "
              "running from cached flash; the M3 instruction count stands in for the M0+ and the LX6) / clock; awake = "
              "CPU time + bus time + the sensors' conversion waits spent busy + each light sleep's way in and out "
              "(%.1f light sleeps per sample: %.1f of the drivers' waits, %.1f pieces of the app's sleep between "
              "samples, each charged the board's wake-up time below); the waits spent in light sleep count with the "
              "rest of the %d s at the light-sleep current; energy = volts x (active mA x awake + sleep mA x the rest); "
              "days = battery energy / (energy per sample x 96). A board config without light sleep (sleep_mode none, "
              "e.g. for a UART console) spends every wait busy, and they count awake (with the sleep between samples: "
              "awake all the period). Radio off (serial output only); no regulator losses beyond what the board "
              "figures include." % (
                  be.BOARDS["Pico (RP2040)"]["cpi"], energy.get("light_waits", 0) + energy.get("app_light_sleeps", 0),
                  energy.get("light_waits", 0), energy.get("app_light_sleeps", 0), be.PERIOD_S), "",
              "Sources:"]
    for name, b in be.BOARDS.items():
        lines.append("- %s: %s; wake-up %.1f ms per light sleep: %s." % (name, b["sources"], b["wake_ms"], b["wake_source"]))
    for battery, mah, volts, source in be.BATTERIES:
        lines.append("- %s (%d mAh at %.1f V): %s." % (battery, mah, volts, source))
    lines.append("")
    return lines


def _light_wait_min_ms():
    from verdant.convwait import LIGHT_WAIT_MIN_MS
    return LIGHT_WAIT_MIN_MS


def gap_lines(nets, whole, energy):
    """Why the targets not met are not met, from this run's own figures."""
    lines = ["", "Gaps:"]
    conv = nets["conv1d"][4]
    outputs = sum(row.out_shape[0] * row.out_shape[1] * row.out_shape[2] for row in conv.layers
                  if row.op in ("FULLY_CONNECTED", "CONV_2D", "DEPTHWISE_CONV_2D", "MEAN"))
    macs = macs_of(nets["conv1d"])
    got = whole.get(("conv1d", "Cortex-M0+"))
    if got:
        lines.append("- conv1d on Cortex-M0+: %d MACs but %d requantized outputs, %.1f MACs per output; the "
                     "requantization (TFLM's double rounding, bit-exact, no 64-bit multiply on Thumb-1) costs about 79 "
                     "instructions per output in nn_dot4_thumb.S, i.e. %.1f of the %.2f instructions per MAC before "
                     "a single MAC; the default model has %.0f MACs per output." % (
                         macs, outputs, macs / outputs, 79.0 * outputs / macs, got["per_inference"] / macs,
                         7680 / 80.0))
    if energy is not None:
        from verdant.settings import DEFAULTS
        st = energy["stages"]
        lines.append("- awake time per sample: of the firmware's %.1f M instructions, %.1f M go to sensor reads "
                     "(%.0f wake-ups per sample: each sensor polled on its own period, 60 s for most of the board "
                     "config, %s reads per poll for a feature step and 1 between steps), %.1f M to the feature step "
                     "(of which %.1f M the gc.collect() it starts with, so the step's lasting objects find one free "
                     "block, and %.1f M the sensor-fault and normal-band detectors), %.1f M to sleeping in %s ms "
                     "chunks between watchdog feeds and %.2f M to the model file check (at the feature steps only); "
                     "the sensors' conversion waits are spent in light sleep from %d ms on (%.0f ms per sample left "
                     "busy: command and poll waits). A garbage collection that an allocation inside a simulated "
                     "part starts is taken out of the count with the part: where the heap fills up moves a "
                     "collection (%.1f M) between the firmware and the simulated parts from one build to the next. "
                     "A MicroPython function whose frame needs more than 11 words (a named exception handler takes 6, "
                     "a for loop over an iterable 4) gets that frame from the heap at every call on a 32-bit port, "
                     "found by a scan of the fragmented heap: part of every stage, and why this figure moves by a few "
                     "hundred thousand with the heap layout alone. The simulated clock and watchdog (Python here, "
                     "C on a board) stay in the count. The rest of the way to 50 ms of CPU: fewer polls between "
                     "feature steps (a board config choice: they watch sensor health, 3 failed polls make a "
                     "sensor_failure alert), leaner detectors and feature step, and the collection (collecting every "
                     "third step ran out of a 512-byte block on this heap)." % (
                         energy["instructions"] / 1e6, st.get("sensors", 0) / 1e6, energy["wakes"],
                         DEFAULTS["reads_per_sample"], st.get("sample", 0) / 1e6, st.get("collect", 0) / 1e6,
                         st.get("faults", 0) / 1e6, st.get("sleep", 0) / 1e6, DEFAULTS["sleep_chunk_ms"],
                         st.get("model_check", 0) / 1e6, _light_wait_min_ms(), energy["wait_ms"],
                         st.get("collect", 0) / 1e6))
    lines.append("- .text above 3 KB: the four-row MAC loop, the requantization loop and the chunked channelwise "
                 "path trade code size for speed (4.1 KB before).")
    return lines


WHOLE_MODEL_TARGETS = {"default": 6.0, "conv1d": 10.0}
LABELS = {"default": "default model", "conv1d": "conv1d"}


def macs_of(net):
    return sum(row.macs for row in net[4].layers)


def whole_model_counts(nets, workdir):
    """{(model, board): {"per_inference", "load", "command"}} on every QEMU board, or {}."""
    from verdant_host import bench_qemu
    if not bench_qemu.available():
        return {}
    found = {}
    for name, (path, model, tflite, what, report) in nets.items():
        elements = int.from_bytes(model[52:56], "little")
        for board in bench_qemu.BOARDS:
            s = Step()
            per_inference, load = bench_qemu.per_inference(s, board, REPO, workdir, name, model, elements)
            found[name, board] = {"per_inference": per_inference, "load": load,
                                  "command": s.commands[-1].replace(workdir, "$TMP").replace(REPO + "/", "")}
    return found


def whole_model_lines(nets, whole):
    if not whole:
        return ["", "Whole-model instruction counts need qemu-system-arm and arm-none-eabi-gcc (not found)."]
    from verdant_host import bench_qemu
    lines = ["", "## Whole model on Cortex-M (QEMU, executed instructions)", "",
             "| figure | value | command |", "| --- | --- | --- |"]
    for name in nets:
        for board in bench_qemu.BOARDS:
            got = whole[name, board]
            path = "Thumb-1 four-row MAC loop" if board == "Cortex-M0+" else "SMLAD dual-MAC path"
            lines.append("| whole-model instructions per MAC, %s, %s | %.2f (%d instructions per inference, %d MACs; %s; "
                         "the per-call guard included) | `make %s`, then `%s`: (3 inputs - 1 input) / 2 / MACs |" % (
                             LABELS[name], board, got["per_inference"] / macs_of(nets[name]), got["per_inference"],
                             macs_of(nets[name]), path, bench_qemu.BOARDS[board][3], got["command"]))
        got = whole[name, "Cortex-M0+"]
        lines.append("| instructions to load (full check with CRC, init), %s, Cortex-M0+ | %d | the same runs: 1 input minus one inference, minus the runner's own startup |" % (
            LABELS[name], got["load"]))
    lines += ["", "The runner (device/native/runner/) does what the MicroPython binding does: `nn_model_check` with the "
              "CRC and `nn_init` once at load, then per inference the structural guard (`NN_CHECK_GUARD`) and "
              "`nn_run`. QEMU's `-singlestep -d exec,nochain` logs one line per executed instruction. The "
              "Cortex-M0+ build runs on the AN385's Cortex-M3 model: it executes the same Thumb-1 instructions.", ""]
    return lines


BEGIN = "<!-- make bench: begin (host/verdant_host/bench.py rewrites this block only) -->"
END = "<!-- make bench: end -->"


def write_block(path, lines):
    """Replaces the marked block of path with lines (other sections of the file stay)."""
    block = BEGIN + "\n" + "\n".join(lines).rstrip("\n") + "\n" + END
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN not in text or END not in text:
        raise RuntimeError("%s has no block marked %s ... %s: add the two lines where the bench figures go"
                           % (path, BEGIN, END))
    head, rest = text.split(BEGIN, 1)
    with open(path, "w") as f:
        f.write(head + block + rest.split(END, 1)[1])


def main(argv=None):
    from verdant_host import bench_unix
    ap = argparse.ArgumentParser(prog="verdant-bench", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "BENCHMARKS.md"))
    ap.add_argument("--mpy-dir", default=os.environ.get("MPY_DIR"),
                    help="MicroPython source tree with the qemu port built (make bench-qemu-firmware): energy per sample")
    ap.add_argument("--micropython", default=paths.micropython())
    args = ap.parse_args(argv)
    natmod_files, natmod_built = bench_unix.natmod_paths(REPO)
    backends = BACKENDS if natmod_built else BACKENDS[1:]
    with tempfile.TemporaryDirectory(prefix="verdant-bench-") as workdir:
        step = Step()
        nets = models(workdir)
        timing = {}
        for name, (path, model, tflite, what, report) in nets.items():
            s = Step()
            timing[name] = bench_unix.measure(s, args.micropython, path, backends, natmod_files, workdir)
            timing_cmd = s.commands[-1]
        size = m0_text_bytes(step)
        per_mac, loop = m0_instructions_per_mac(step)
        m0_dynamic = m0_dynamic_instructions_per_mac(Step(), workdir)
        x64_per_mac = x64_valgrind_ir(Step(), workdir)
        whole = whole_model_counts(nets, workdir)
        from verdant_host import bench_energy
        energy = bench_energy.measure(REPO, workdir, args.mpy_dir)

        lines = ["Made by `make bench` (host/verdant_host/bench.py) in one run; each figure names the command",
                 "that measured it. Unix-port timings are wall-clock on the machine that ran the bench (shared,",
                 "so expect noise): hence interleaved rounds in one process, medians and the min-max spread.", ""]
        lines += ["## Models", "", "| model | what | MACs | model file bytes | of which int8 weights | .tflite bytes | file / tflite | arena bytes |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for name, (path, model, tflite, what, report) in nets.items():
            lines.append("| %s | %s | %d | %d | %d | %d | %.2f | %d |" % (
                name, what, sum(row.macs for row in report.layers), len(model),
                sum(row.weight_bytes for row in report.layers), len(tflite), len(model) / len(tflite),
                report.arena_bytes))
        lines += ["", "Model files come from `verdant_host.export.export_tflite` (arena bytes: the header field, "
                  "which the C parser recomputes and checks). Both formats store the same int8 weights, one byte "
                  "each, so a file cannot fall below its weight bytes: where those are more than a quarter of the "
                  ".tflite, the 0.25x target is out of reach for any uncompressed format.", ""]
        table, ratios = bench_unix.table(timing, backends)
        lines += ["## Microseconds per call (MicroPython Unix port, x64): median (min-max) over %d interleaved rounds"
                  % bench_unix.ROUNDS, ""] + table
        lines += ["", "Command (one process per model, every backend and call inside it): `%s` "
                  "(script: `verdant_host.bench_unix._SCRIPT`): loads the model once per backend with "
                  "`verdant.engine.load(buf, backend=...)`, sizes one batch per backend and call to last >= %d ms, "
                  "then runs %d rounds, each timing one batch of every (backend, call) with `time.ticks_us`, "
                  "the backend order rotated each round. Ratios are per round (median, min-max). `predict` takes "
                  "floats (quantize, run, dequantize: the call the firmware makes)."
                  % (timing_cmd.replace(workdir, "$TMP").replace(REPO + "/", ""), bench_unix.BATCH_US // 1000, bench_unix.ROUNDS), ""]
        heap_keys = [k for k in next(iter(timing.values()))["heap"]]
        lines += ["## Heap bytes allocated per call", "",
                  "| model | " + " | ".join("`%s`" % k for k in sorted(heap_keys)) + " |",
                  "| --- | " + " | ".join("---" for _ in heap_keys) + " |"]
        for name, res in timing.items():
            lines.append("| %s | %s |" % (name, " | ".join("%g" % res["heap"][k] for k in sorted(heap_keys))))
        lines += ["", "Same process as the timings: after 20 warm-up calls, `gc.collect(); gc.disable()`, "
                  "`gc.mem_alloc()` before and after 100 calls, divided by 100.", ""]
        lines += ["## Cortex-M0+ (armv6m) kernel", "",
                  "| figure | value | command |", "| --- | --- | --- |",
                  "| .text bytes, kernel + parser + MAC loop, -Os | %d (%s; plus %d bytes .rodata: messages, tables) | `make native-size` then `arm-none-eabi-size -A build/native/m0size/*.o` |" % (
                      size["text"], ", ".join("%s %d" % kv for kv in sorted(size["per_object"].items())), size["rodata"]),
                  "| .text bytes of the same objects linked with libgcc (what a .mpy carries: mpy_ld keeps every section and adds the libgcc members the objects need) | %d (+ %d .rodata); libgcc members: %s | `make native-size` then `arm-none-eabi-size -A build/native/m0size/kernel.elf`, members from `build/native/m0size/kernel.map` |" % (
                      size["linked_text"], size["linked_rodata"], ", ".join(size["helpers"]) or "none"),
                  "| instructions per MAC, inner loop | %.1f (`%s`) | `arm-none-eabi-objdump -d build/native/m0size/nn_dot4_thumb.o` (loop body / MACs per pass) |" % (per_mac, "; ".join(loop)),
                  ]
        if m0_dynamic is not None:
            lines.append("| executed instructions per MAC, whole FC inference (768x16) on QEMU | %.2f | `qemu-system-arm -M mps2-an385 -singlestep -d exec,nochain` on the Cortex-M0+ runner, 6 inputs minus 2 inputs, divided by the MAC difference |" % m0_dynamic)
        if x64_per_mac is not None:
            lines.append("| x64 for comparison: instructions per MAC, gcc -O2 | %.2f | `valgrind --tool=callgrind build/native/bench/nn_runner` on FC 256x16 and 1280x16, 20 inputs each: (Ir difference) / (MAC difference) |" % x64_per_mac)
        lines += whole_model_lines(nets, whole)
        lines += energy_lines(energy)
        lines += ["", "## Targets", "", "| target | measured | |", "| --- | --- | --- |"]
        for name, label, limit in (("default", "default model", WHOLE_MODEL_TARGETS["default"]),
                                   ("conv1d", "conv1d", WHOLE_MODEL_TARGETS["conv1d"])):
            got = whole.get((name, "Cortex-M0+"))
            whole_per_mac = got["per_inference"] / macs_of(nets[name]) if got else None
            lines.append("| whole-model instructions per MAC, %s, Cortex-M0+ <= %g | %s | %s |" % (
                label, limit, "%.2f" % whole_per_mac if whole_per_mac else "not measured (no qemu-system-arm)",
                fmt_ok(whole_per_mac is not None and whole_per_mac <= limit)))
        for name in nets:
            r_nat, r_vip = ratios[name, "predict_int8"]
            lines.append("| natmod >= 100x pure Python (%s, `predict_int8`, median of rounds) | %s | %s |" % (
                name, "%.0fx" % r_nat if r_nat else "not built", fmt_ok(r_nat is not None and r_nat >= 100)))
            lines.append("| viper >= 20x pure Python (%s, `predict_int8`, median of rounds) | %.1fx | %s |" % (
                name, r_vip, fmt_ok(r_vip >= 20)))
        lines.append("| <= 6 instructions per MAC (armv6m inner loop) | %.1f | %s |" % (per_mac, fmt_ok(per_mac <= 6)))
        lines.append("| <= 3 KB .text kernel + parser (Cortex-M0+ -Os, linked with its libgcc helpers) | %d bytes | %s |" % (
            size["linked_text"], fmt_ok(size["linked_text"] <= 3072)))
        for name, (path, model, tflite, what, report) in nets.items():
            ratio = len(model) / len(tflite)
            lines.append("| model file <= 0.25x .tflite (%s) | %.2fx | %s |" % (name, ratio, fmt_ok(ratio <= 0.25)))
        if energy is not None:
            pico = bench_energy.energy_rows(energy)[0]
            lines.append("| awake time per 15-minute sample < 50 ms at 125 MHz (Cortex-M0+ class: Pico), CPU only | %.0f ms | %s |" % (
                pico["cpu_ms"], fmt_ok(pico["cpu_ms"] < 50)))
            lines.append("| the same with bus time, the sensor waits spent busy and the light sleeps' ways in and out | %.0f ms | %s |" % (
                pico["awake_ms"], fmt_ok(pico["awake_ms"] < 50)))
        heap = [res["heap"]["natmod predict_int8"] for res in timing.values() if "natmod predict_int8" in res["heap"]]
        lines.append("| 0 heap bytes per `predict_int8` (natmod) | %s | %s |" % (
            ", ".join("%g" % h for h in heap) or "not built", fmt_ok(bool(heap) and max(heap) == 0)))
        lines += gap_lines(nets, whole, energy)
        lines.append("")
        write_block(args.out, lines)
        print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
