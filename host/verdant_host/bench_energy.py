"""`make bench`, energy part: instructions the firmware executes per 15-minute sample on a
Cortex-M core, counted on MicroPython's `qemu` port (MPS2_AN385, Cortex-M3) with QEMU's
`-icount shift=0` (one instruction = 1 ns of virtual time, so the board's own
`time.ticks_us()` counts thousands of instructions); then awake time, energy per sample and
battery life from datasheet currents.

What runs on the emulated board: the real firmware (device/verdant, compiled with
mpy-cross, in a ROMFS image QEMU loads at 0x20000000) on the Pico board config with
simulated sensor parts (verdant.sim), the shipped model through the armv6m native
module, the flash log in RAM (memfs). After a warm-up that fills the feature window, the
app runs SAMPLES sample periods; the instructions of that whole span (every wake-up:
sensor reads, features, model, rules, protocol lines, flash-log records, watchdog
feeds) divided by SAMPLES is one sample's work. The drivers' conversion waits (outside the
app's sleep) are counted separately, as the firmware spends them: the short ones as busy
`clock.sleep_ms` (CPU awake), the long ones as `hal.lightsleep` on a board config that light
sleeps (verdant.convwait.ConversionWait: asleep, plus each light sleep's entry and exit awake).
"""
import glob
import os
import select
import subprocess
import time

ROMFS_ADDR = 0x20000000  # the AN385's second SSRAM: the qemu port's firmware does not use it
SAMPLES = 4
PERIOD_S = 900
# The qemu port built with a Pico-sized heap (the rp2 port gives MicroPython about 190 KB;
# the qemu port's default 140 KB does not hold the app, its model and a RAM flash log):
#   make -C $MPY_DIR/ports/qemu BOARD=MPS2_AN385 BUILD=build-MPS2_AN385-heap192k \
#        MICROPY_HEAP_SIZE=196608 FROZEN_MANIFEST=      (make bench-qemu-firmware)
QEMU_FIRMWARE = "ports/qemu/build-MPS2_AN385-heap192k/firmware.elf"

# Datasheet figures (each with its source; see BENCHMARKS.md).
BOARDS = {
    "Pico (RP2040)": {
        "clock_hz": 125e6, "volts": 5.0, "active_ma": 25.0, "sleep_ma": 1.5,
        "sources": "active: Raspberry Pi Pico Datasheet, section 'Power consumption' (tens of mA at VBUS 5 V "
                   "when running; 25 mA taken here); light sleep: 1.5 mA from USB, measured by the MicroPython "
                   "maintainers when machine.lightsleep() landed on rp2 (micropython commit b004e7e, 2022)",
        "cpi": 1.5,
        "wake_ms": 1.0, "wake_source": "an assumption, not measured: rp2's lightsleep keeps the crystal running and "
                                      "on waking re-locks the system PLL and reconfigures the clocks "
                                      "(ports/rp2/modmachine.c, clocks_extra.c)",
    },
    "ESP32 (DevKitC)": {
        "clock_hz": 160e6, "volts": 3.3, "active_ma": 44.0, "sleep_ma": 0.8,
        "sources": "Espressif ESP32 Series Datasheet, table 'Power consumption by power modes': modem-sleep "
                   "(CPU on, radio off) at 160 MHz 27-44 mA (44 taken), light-sleep 0.8 mA; chip figures, a "
                   "DevKitC's regulator and USB bridge add to them",
        "cpi": 1.5,
        "wake_ms": 0.6, "wake_source": "ESP-IDF's own figures for leaving light sleep on an ESP32 "
                                      "(components/esp_hw_support/sleep_modes.c: DEFAULT_SLEEP_OUT_OVERHEAD_US 212 us, "
                                      "476 us without CONFIG_PM_SLP_IRAM_OPT, plus DEFAULT_HARDWARE_OUT_OVERHEAD_US "
                                      "60 us), rounded up for getting in",
    },
}
# Usable energy of a battery: (name, mAh, volts, source)
BATTERIES = [
    ("3 x AA alkaline", 2500, 4.5, "Energizer E91 datasheet: about 2500 mAh at 25-100 mA to 0.8 V per cell; 3 in series"),
    ("one 18650 Li-ion", 3200, 3.6, "Panasonic NCR18650B datasheet: 3200 mAh minimum, 3.6 V nominal"),
]


def _mpy_cross():
    from verdant_host import paths
    return paths.mpy_cross()


def build_romfs(repo, workdir, board="pico"):
    """ROMFS image bytes: verdant/ as .mpy, memfs, the armv6m native module, board.json, model.bin."""
    from mpremote.romfs import VfsRomWriter
    rom = VfsRomWriter()
    mpy_cross = _mpy_cross()

    def compiled(path):
        out = os.path.join(workdir, "romfs.mpy")
        subprocess.run([mpy_cross, "-march=armv7m", "-o", out, path], check=True, capture_output=True)
        with open(out, "rb") as f:
            return f.read()

    def add_tree(src):
        for name in sorted(os.listdir(src)):
            path = os.path.join(src, name)
            if os.path.isdir(path):
                if name == "__pycache__":
                    continue
                rom.opendir(name)
                add_tree(path)
                rom.closedir()
            elif name.endswith(".py"):
                rom.mkfile(name[:-3] + ".mpy", compiled(path))

    rom.opendir("verdant")
    add_tree(os.path.join(repo, "device", "verdant"))
    rom.closedir()
    rom.mkfile("memfs.mpy", compiled(os.path.join(repo, "tests", "device", "memfs.py")))
    natmod = sorted(glob.glob(os.path.join(repo, "dist", "armv6m_*", "verdant_nn.mpy")))
    if natmod:
        with open(natmod[-1], "rb") as f:
            rom.mkfile("verdant_nn.mpy", f.read())
    with open(os.path.join(repo, "boards", board + ".json"), "rb") as f:
        rom.mkfile("board.json", f.read())
    with open(os.path.join(repo, "models", "default", "model.bin"), "rb") as f:
        rom.mkfile("model.bin", f.read())
    return rom.finalise(), bool(natmod)


_SCRIPT = """
import gc, os, sys, time, uctypes, vfs
vfs.mount(vfs.VfsRom(uctypes.bytearray_at(%(addr)d, %(size)d)), '/rom')
sys.path.insert(0, '/rom')
try:  # first, while the heap is empty: loading it later fails on this port's fragmented heap
    import verdant_nn
except ImportError:
    pass
from verdant import app as appmod
from verdant.board import load_board
from verdant.sim import make_sim_hal
from verdant.hal.sim import SimClock
from memfs import MemFS
board = load_board('/rom/board.json')
env = {'air_temp_c': 21.5, 'rh_pct': 64.0, 'co2_ppm': 650.0, 'light_lux': 12000.0,
       'soil_moisture_pct': 38.0, 'soil_temp_c': 18.0}
hal = make_sim_hal(board, SimClock(start_s=1767225600 + 8 * 3600), env)
fs = MemFS()
def opener(path, mode='rb'):
    return open(path, mode) if path.startswith('/rom/') else fs.open(path, mode)
lines = [0]
def out(line):
    lines[0] += 1
def stat(path):  # ROMFS has no modification times; a Pico's littlefs has (VfsLfs2 mtime=True)
    st = os.stat(path)
    return st[:8] + (1767225600,) + st[9:]
# The drivers' waits as the firmware spends them: busy (clock.sleep_ms) or in light sleep
# (hal.lightsleep, where the board config allows it); counted before the app is made, whose
# sensors take both then (verdant.convwait.ConversionWait).
waits = [0, 0, 0, 0, 0]  # ms waited busy, ms in light sleep, light sleeps (drivers); in the app's sleep; its light sleeps
sleep_ms = hal.clock.sleep_ms
def counted_sleep_ms(ms):
    if not waits[3]:
        waits[0] += int(ms)
    sleep_ms(ms)
def counted_lightsleep(ms):  # as SimHAL.lightsleep: the clock moves on
    if waits[3]:
        waits[4] += 1
    else:
        waits[1] += int(ms)
        waits[2] += 1
    sleep_ms(ms)
hal.clock.sleep_ms = counted_sleep_ms
hal.lightsleep = counted_lightsleep
app = appmod.App(hal, board, out=out, opener=opener, stat=stat, model_path='/rom/model.bin',
                 settings={'log_records': 64})  # a RAM log: the qemu port's heap is 140 KB
app_sleep = app.sleep_until
wakes = [0]
def sleep_until(t):
    waits[3] = 1
    wakes[0] += 1
    app_sleep(t)
    waits[3] = 0
app.sleep_until = sleep_until
# The simulated buses and parts stand in for hardware (a C I2C driver and the sensor chips):
# the instructions spent in them are measured and taken out; the bytes they move give the
# bus time (the CPU waits for the wire on a board).
bus = {'us': 0, 'depth': 0, 'calls': 0, 'i2c_tx': 0, 'i2c_bytes': 0, 'ow_resets': 0, 'ow_bytes': 0.0}
NAMES = {'i2c': ('writeto', 'readfrom_into', 'readfrom', 'writeto_mem', 'readfrom_mem_into', 'readfrom_mem'),
         'ow': ('reset', 'write', 'writebyte', 'readinto', 'readbyte', 'readbit', 'select_rom'),
         'adc': ('read_u16',)}
def wrap_bus(obj, kind):
    for name in NAMES[kind]:
        f = getattr(obj, name, None)
        if f is None:
            continue
        def wrapped(*a, f=f, name=name):
            bus['depth'] += 1
            bus['calls'] += 1
            t = time.ticks_us()
            try:
                return f(*a)
            finally:
                bus['depth'] -= 1
                if not bus['depth']:
                    bus['us'] += time.ticks_diff(time.ticks_us(), t)
                    if kind == 'i2c' and len(a) > 1:
                        n = a[-1] if isinstance(a[-1], int) else len(a[-1])
                        bus['i2c_tx'] += 1
                        bus['i2c_bytes'] += n + (1 if 'mem' in name else 0)
                    elif kind == 'ow':
                        if name == 'reset':
                            bus['ow_resets'] += 1
                        elif name in ('writebyte', 'readbyte'):
                            bus['ow_bytes'] += 1
                        elif name == 'readbit':
                            bus['ow_bytes'] += 0.125
                        elif name in ('write', 'readinto', 'select_rom'):
                            bus['ow_bytes'] += len(a[0]) + (1 if name == 'select_rom' else 0)
        setattr(obj, name, wrapped)
class Probe:  # what the wrapper itself costs per call, outside its own timing window
    def reset(self):
        return 0
probe = Probe()
wrap_bus(probe, 'ow')
t = time.ticks_us()
for _ in range(200):
    probe.reset()
wrapper_ns = (time.ticks_diff(time.ticks_us(), t) - bus['us']) * 1000 // 200
bus['calls'] = 0
for b in hal._i2c.values():
    wrap_bus(b, 'i2c')
for b in hal._adc.values():
    wrap_bus(b, 'adc')
if hal._onewire is not None:
    wrap_bus(hal._onewire, 'ow')
gc.collect()
app.boot_status()
app.load_model()
app.run(14 * %(period)d)  # fill the feature window: the model runs from here on
gc.collect()
stages = {}
def stage(name, obj, attr):
    f = getattr(obj, attr)
    def timed(*a):
        t = time.ticks_us()
        try:
            return f(*a)
        finally:
            stages[name] = stages.get(name, 0) + time.ticks_diff(time.ticks_us(), t)
    setattr(obj, attr, timed)
stage('sensors', app.sampler, 'poll_events')
stage('sample', app, 'sample')
stage('collect', app, 'collect')  # inside 'sample': the gc.collect() each feature step starts with
stage('faults', app.alerts, 'update_faults')  # inside 'sample': the sensor-fault and normal-band detectors
stage('model_check', app.model, 'poll')
stage('sleep', app, 'sleep_until')
waits[0] = waits[1] = waits[2] = waits[4] = wakes[0] = lines[0] = 0
for k in bus:
    bus[k] = 0
t0 = time.ticks_us()
app.run(%(samples)d * %(period)d)
dt = time.ticks_diff(time.ticks_us(), t0)
print('ENERGY', dt, bus['us'], waits[0], wakes[0], lines[0], app.engine.backend if app.engine else 'none', gc.mem_free(),
      bus['i2c_tx'], bus['i2c_bytes'], bus['ow_resets'], int(bus['ow_bytes']), bus['calls'] * wrapper_ns // 1000,
      waits[1], waits[2], waits[4], board['sleep_mode'], 'STAGES', ' '.join('%%s=%%d' %% kv for kv in stages.items()))
"""


class RawRepl:
    """MicroPython raw REPL over a process's stdin/stdout (QEMU's -serial stdio)."""

    def __init__(self, proc):
        self.proc, self.buf = proc, b""

    def read_until(self, marker, timeout):
        end = time.time() + timeout
        while marker not in self.buf:
            left = end - time.time()
            if left <= 0 or self.proc.poll() is not None:
                raise RuntimeError("qemu firmware: no %r within %ds; got %r" % (marker, timeout, self.buf[-400:]))
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                self.buf += os.read(self.proc.stdout.fileno(), 65536)
        before, _, self.buf = self.buf.partition(marker)
        return before

    def run(self, code, timeout):
        self.proc.stdin.write(b"\r\x01")
        self.proc.stdin.flush()
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", 30)
        data = code.encode()
        for i in range(0, len(data), 256):  # the emulated UART takes it in pieces
            self.proc.stdin.write(data[i:i + 256])
            self.proc.stdin.flush()
            time.sleep(0.01)
        self.proc.stdin.write(b"\x04")
        self.proc.stdin.flush()
        self.read_until(b"OK", 30)
        out = self.read_until(b"\x04", timeout)
        err = self.read_until(b"\x04", 30)
        return out.decode(errors="replace"), err.decode(errors="replace")


def qemu_command(firmware, image_path, icount=False):
    """QEMU running the qemu port's firmware with a ROMFS image at ROMFS_ADDR, serial on stdio;
    icount: one instruction = 1 ns of virtual time (counting instructions with ticks_us)."""
    return (["qemu-system-arm", "-M", "mps2-an385", "-nographic", "-monitor", "null", "-semihosting"]
            + (["-icount", "shift=0"] if icount else [])
            + ["-device", "loader,file=%s,addr=0x%x,force-raw=on" % (image_path, ROMFS_ADDR),
               "-serial", "stdio", "-kernel", firmware])


def run_on_qemu(firmware, image, workdir, code, timeout, icount=False):
    """Boot the qemu port with the ROMFS image (bytes), run `code` on its raw REPL and
    return (output, error output); `code` gets the image at ROMFS_ADDR."""
    image_path = os.path.join(workdir, "verdant-romfs.img")
    with open(image_path, "wb") as f:
        f.write(image)
    proc = subprocess.Popen(qemu_command(firmware, image_path, icount), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        repl = RawRepl(proc)
        repl.read_until(b">>> ", 60)
        return repl.run(code, timeout)
    finally:
        proc.kill()
        proc.wait()


def measure(repo, workdir, mpy_dir, board="pico"):
    """{'instructions', 'wait_ms', 'wakes', 'lines', 'backend', 'command'} per sample, or None
    when the qemu port firmware is not built."""
    if not mpy_dir or not os.path.exists(os.path.join(mpy_dir, QEMU_FIRMWARE)):
        return None
    image, _ = build_romfs(repo, workdir, board)
    # the image: build_romfs()
    shown = " ".join(qemu_command("$MPY_DIR/" + QEMU_FIRMWARE, "$TMP/verdant-romfs.img", icount=True))
    out, err = run_on_qemu(os.path.join(mpy_dir, QEMU_FIRMWARE), image, workdir,
                           _SCRIPT % {"addr": ROMFS_ADDR, "size": len(image), "period": PERIOD_S,
                                      "samples": SAMPLES}, 1800, icount=True)
    words = [line.split() for line in out.splitlines() if line.startswith("ENERGY ")]
    if err.strip() or not words:
        raise RuntimeError("firmware step on the qemu port failed:\n%s%s" % (out[-2000:], err[-2000:]))
    stages = dict((k, int(v) * 1000 / SAMPLES) for k, v in (w.split("=") for w in words[-1][18:]))
    (us, sim_us, wait_ms, wakes, lines, backend, free, i2c_tx, i2c_bytes, ow_resets, ow_bytes, wrap_us,
     light_wait_ms, light_waits, app_light_sleeps, sleep_mode) = words[-1][1:17]
    # the sensor stage ran the simulated parts and the bus wrappers: without them it is the firmware's
    stages["sensors"] = stages.get("sensors", 0) - (int(sim_us) + int(wrap_us)) * 1000 / SAMPLES
    i2c_hz = 100000
    bus_ms = (int(i2c_tx) * 2 + int(i2c_bytes)) * 9 * 1000.0 / i2c_hz + int(ow_resets) * 0.96 + int(ow_bytes) * 8 * 0.07
    return {"instructions": (int(us) - int(sim_us) - int(wrap_us)) * 1000 / SAMPLES,
            "simulated": (int(sim_us) + int(wrap_us)) * 1000 / SAMPLES,
            "wait_ms": int(wait_ms) / SAMPLES, "light_wait_ms": int(light_wait_ms) / SAMPLES,
            "light_waits": int(light_waits) / SAMPLES, "app_light_sleeps": int(app_light_sleeps) / SAMPLES,
            "sleep_mode": sleep_mode, "bus_ms": bus_ms / SAMPLES, "i2c_bytes": int(i2c_bytes) / SAMPLES,
            "ow_bytes": int(ow_bytes) / SAMPLES, "wakes": int(wakes) / SAMPLES, "lines": int(lines) / SAMPLES,
            "backend": backend, "mem_free": int(free), "stages": stages, "command": shown}


def energy_rows(per_sample):
    """Per board: awake ms, mJ per sample, days on each battery. wait_ms: the drivers' busy
    waits (awake); light_wait_ms: their waits in light sleep (asleep, in the rest of the period);
    each light sleep (the drivers' light_waits and the app's app_light_sleeps) costs the board's
    wake_ms awake getting in and out. sleep_mode none (the board config measured never light
    sleeps): awake all the period."""
    rows = []
    for name, b in BOARDS.items():
        cpu_s = per_sample["instructions"] * b["cpi"] / b["clock_hz"]
        entries = per_sample.get("light_waits", 0) + per_sample.get("app_light_sleeps", 0)
        wake_ms = entries * b["wake_ms"]
        awake_s = cpu_s + (per_sample["wait_ms"] + per_sample["bus_ms"] + wake_ms) / 1000.0
        if per_sample.get("sleep_mode") == "none":  # no light sleep at all: busy between samples too
            awake_s = PERIOD_S
        asleep_s = PERIOD_S - awake_s
        mj = b["volts"] * (b["active_ma"] * awake_s + b["sleep_ma"] * asleep_s)  # mA * V * s = mJ
        per_day_mj = mj * 86400 / PERIOD_S
        days = [(battery, mah * volts * 3.6 * 1000 / per_day_mj) for battery, mah, volts, _ in BATTERIES]  # mWh->mJ
        rows.append({"board": name, "cpu_ms": cpu_s * 1000, "awake_ms": awake_s * 1000, "wake_ms": wake_ms, "mj": mj,
                     "sleep_share": b["sleep_ma"] * asleep_s / (b["active_ma"] * awake_s + b["sleep_ma"] * asleep_s),
                     "days": days, "board_figures": b})
    return rows
