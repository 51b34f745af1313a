"""The firmware application: sample -> features -> model + rules -> alerts -> serial -> flash log.

Every step runs inside a guard: an exception in a sensor, the features, the model,
the rules or an output is reported as an "error" line and the loop goes on. The
watchdog is fed between steps and during sleeps. All timing comes from hal.clock,
so the same loop runs on a board, on the Unix port with the sim HAL (virtual time:
days in seconds) and on the virtual board.

Used by:
  device/main.py            app.main(): board config and HAL from the files on the board
  host replay / vboard      app.run(hal, board, hours=48, sensors=..., engine=...)

HAL attributes used: clock (time_s, sleep_ms), optional watchdog (feed), optional
serial (write; else lines are printed), optional sleep(ms, mode) for light sleep,
optional storage (folder prefix for files).

Extra outputs (outputs=[...]): each gets every encoded line through write(line) after
the serial line, and idle() (when it has one) before the app sleeps, e.g. the MQTT
publisher (verdant.mqtt_publish) that queues lines and turns the radio off between
samples. A failing output is counted in output_failures and never stops the loop.

Model files: model.bin is loaded with verdant.engine.load; a file the parser refuses
is reported (error line with the parser's message) and model.prev, the last model
that loaded, is used instead. While running, model.bin is checked every
model_check_s; a new valid model replaces the running one, a corrupt one is refused
and the running model keeps going.
"""
try:
    import gc
except ImportError:  # pragma: no cover
    gc = None

from verdant import VERSION
from verdant.alerts import AlertEngine
from verdant.crc32 import crc32
from verdant.features import FeatureState, build_vector, missing_inputs
from verdant.flashlog import (FlashLog, FLAG_SAFE_MODE, FLAG_MODEL_OFF, FLAG_SENSOR_FAILED,
                              FLAG_ALERT_ACTIVE)
from verdant.protocol import Encoder
from verdant.sampler import Sampler
from verdant.safemode import BootCounter

DEFAULTS = {
    "feature_period_s": 300,    # features, model and reading lines every 5 min (model metadata wins)
    "feature_window": 12,       # slots in the window without a model (a model's own window wins)
    "utc_offset_s": 0,
    "reads_per_sample": 3,
    "healthy_s": 600,           # uptime after which the boot counter is reset
    "heartbeat_s": 3600,        # status line with health and memory
    "model_check_s": 60,        # how often model.bin is checked for a new version
    "sleep_chunk_ms": 4000,     # longest sleep between watchdog feeds
    "log_records": 2000,
    "sleep": "none",            # none | light | deep (deep is treated as light, see docs)
}


def _error_text(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text if text else "")


def _mem_free():
    if gc is not None and hasattr(gc, "mem_free"):
        gc.collect()
        return gc.mem_free()
    return None


class App:
    def __init__(self, hal, board, sensors=None, settings=None, engine_loader=None, out=None, safe_mode=None,
                 boot_count=0, boot_counter=None, model_path="model.bin", log_path="verdant.log",
                 opener=open, stat=None, boot_problem=None, outputs=None):
        self.hal = hal
        self.board = board if isinstance(board, dict) else {}
        settings = dict(settings or {})
        alert_overrides = settings.pop("alerts", None) or self.board.get("alerts")
        self.settings = dict(DEFAULTS)
        for key, value in settings.items():
            if key not in DEFAULTS:
                raise ValueError("app settings: unknown key %r (known: %s)" % (key, ", ".join(sorted(DEFAULTS))))
            self.settings[key] = value
        if self.board.get("sleep_mode"):
            self.settings["sleep"] = self.board["sleep_mode"]
        watchdog_ms = self.board.get("watchdog_timeout_ms")
        if watchdog_ms:
            self.settings["sleep_chunk_ms"] = min(self.settings["sleep_chunk_ms"], watchdog_ms // 2)
        prefix = getattr(hal, "storage", "") or ""
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        self.model_path = prefix + model_path
        self.prev_path = prefix + model_path.rsplit(".", 1)[0] + ".prev"
        self.opener = opener
        self._stat = stat
        self.encoder = Encoder()
        self._out = out
        self.outputs = list(outputs or ())
        self.output_failures = 0
        self.lines_sent = 0
        self.errors = 0
        self.boot_counter = boot_counter
        self.boot_count = boot_count
        self.safe_mode, self.safe_reason = (False, None) if not safe_mode else (True, safe_mode)
        self.engine_loader = engine_loader
        self.engine = None
        self.model_state = None       # (on/off, why) last reported
        self.model_signature = None   # (size, mtime) of the model.bin last tried
        self._model_missing = None
        self.boot_problem = boot_problem
        self.started_at = hal.clock.time_s()
        self.healthy_reported = False
        self.alerts = AlertEngine(alert_overrides)
        self._alert_overrides = alert_overrides or {}
        if sensors is None:
            sensors = self._build_sensors()
        self.sampler = Sampler(sensors, reads=self.settings["reads_per_sample"], after_read=self.feed)
        self.fitted = self.sampler.quantities()
        for sensor in self.sampler.sensors:  # sensor-fault alerts name the sensor of a quantity
            for q in sensor.quantities:
                self.alerts.faults.sensor_of.setdefault(q, sensor.name)
        self.features = FeatureState(self.settings["feature_period_s"], self.settings["feature_window"],
                                     self.settings["utc_offset_s"])
        self.log = None
        try:
            self.log = FlashLog(prefix + log_path, self.settings["log_records"], opener=opener)
        except Exception as exc:
            self.report_error("flashlog", exc)
        self._next_feature_t = None
        self._next_heartbeat_t = self.started_at + self.settings["heartbeat_s"]
        self._next_model_check_t = self.started_at + self.settings["model_check_s"]

    # ---- output ----
    def send(self, kind, payload, t=None):
        line = self.encoder.encode(self.hal.clock.time_s() if t is None else t, kind, payload)
        try:
            if self._out is not None:
                self._out(line)
            elif getattr(self.hal, "serial", None) is not None:
                self.hal.serial.write(line)
            else:
                import sys
                sys.stdout.write(line.decode())
            self.lines_sent += 1
        except Exception:
            pass  # nowhere left to report an output failure; the flash log still runs
        for output in self.outputs:
            try:
                output.write(line)
            except Exception:
                self.output_failures += 1  # an error line here could fail the same way

    def idle_outputs(self):
        """Tell the outputs the app is about to sleep (the MQTT one may power the radio down)."""
        for output in self.outputs:
            idle = getattr(output, "idle", None)
            if idle is not None:
                self._guard("output", idle)

    def report_error(self, where, exc, **extra):
        self.errors += 1
        payload = {"where": where, "error": _error_text(exc) if isinstance(exc, BaseException) else str(exc)}
        for key in extra:
            payload[key] = extra[key]
        self.send("error", payload)

    def _guard(self, where, func, *args):
        """Run one step; on an exception send an error line and return None."""
        try:
            return func(*args)
        except Exception as exc:
            self.report_error(where, exc)
            return None

    # ---- set-up ----
    def _build_sensors(self):
        from verdant.board import build_sensors
        return build_sensors(self.board, self.hal)

    def _file_signature(self, path):
        try:
            if self._stat is not None:
                st = self._stat(path)
            else:
                import os
                st = os.stat(path)
        except OSError:
            return None
        if st[8]:
            return (st[6], st[8])
        # no modification times on this file system (some littlefs builds): use a CRC of the bytes
        data = self._read(path)
        return None if data is None else (st[6], crc32(data))

    def _read(self, path):
        try:
            f = self.opener(path, "rb")
        except OSError:
            return None
        try:
            return f.read()
        finally:
            f.close()

    def _loader(self):
        if self.engine_loader is None:
            from verdant.engine import load
            self.engine_loader = load
        return self.engine_loader

    def _usable(self, engine):
        """None when this board can feed the model, else why not."""
        meta = engine.meta
        try:
            names = meta["features"]
            build_vector([], names, meta["norm_mean"], meta["norm_std"], int(meta.get("window", 1) or 1))
            for name in names:
                lacking = missing_inputs(name, self.fitted)
                if lacking:
                    return "board has no sensor for %s (model feature %s)" % (", ".join(lacking), name)
        except (KeyError, TypeError, ValueError) as exc:
            return "model metadata unusable: " + _error_text(exc)
        return None

    def _set_model_state(self, on, why, **extra):
        state = ("on" if on else "off", why)
        if state != self.model_state:
            self.model_state = state
            payload = {"model": state[0], "why": why}
            for key in extra:
                payload[key] = extra[key]
            self.send("status", payload)

    def _try_load(self, path, data):
        """Engine for the model bytes or None (error line with the parser's message)."""
        try:
            engine = self._loader()(data)
        except Exception as exc:
            self.report_error("model", exc, file=path)
            return None
        return engine

    def load_model(self):
        """Boot-time model choice: model.bin, else the last good model.prev."""
        if self.safe_mode:
            self._set_model_state(False, "safe mode: " + self.safe_reason)
            return
        self.model_signature = self._file_signature(self.model_path)
        for path in (self.model_path, self.prev_path):
            data = self._read(path)
            if data is None:
                continue
            engine = self._try_load(path, data)
            if engine is None:
                continue
            if path == self.model_path:
                self._keep_as_previous(data)
            self._activate(engine, path)
            return
        self._set_model_state(False, "no loadable model file (%s, %s)" % (self.model_path, self.prev_path))

    def _keep_as_previous(self, data):
        if self._read(self.prev_path) == data:
            return
        try:
            f = self.opener(self.prev_path, "wb")
            try:
                f.write(data)
            finally:
                f.close()
        except Exception as exc:
            self.report_error("model", exc, file=self.prev_path)

    def _activate(self, engine, path):
        why = self._usable(engine)
        if why is not None:
            self.engine = None
            self._set_model_state(False, why, file=path)
            return
        meta = engine.meta
        window = int(meta.get("window", 1) or 1)
        period = int(meta.get("period_s", self.settings["feature_period_s"]))
        if period != self.features.period_s or window != self.features.window:
            # window statistics (rates, means) span exactly the model's window, as in training
            self.features = FeatureState(period, window, self.settings["utc_offset_s"])
            if self._next_feature_t is not None:
                self._next_feature_t = self.hal.clock.time_s()  # next feature step now, on the new grid
        # the model's own detection threshold and debounce, unless config.json sets them
        for meta_key, setting in (("alert_threshold", "model_threshold"), ("alert_consecutive", "model_consecutive")):
            if meta_key in meta and setting not in self._alert_overrides:
                self.alerts.settings[setting] = meta[meta_key]
        if self.alerts.settings["model_clear"] > self.alerts.settings["model_threshold"]:
            self.alerts.settings["model_clear"] = self.alerts.settings["model_threshold"] * 0.7
        self.engine = engine
        self._model_missing = None
        self._set_model_state(True, "loaded", file=path, backend=getattr(engine, "backend", "?"),
                              labels=list(engine.labels), window=window, period_s=period)

    def check_model_file(self):
        """Reload model.bin when it changed; a corrupt one is refused, the running model stays."""
        if self.safe_mode:
            return
        signature = self._file_signature(self.model_path)
        if signature is None or signature == self.model_signature:
            return
        self.model_signature = signature
        data = self._read(self.model_path)
        if data is None:
            return
        engine = self._try_load(self.model_path, data)
        if engine is None:
            if self.engine is not None:
                self.send("status", {"model": "on", "why": "kept the running model; new model.bin refused"})
            return
        why = self._usable(engine)
        if why is not None and self.engine is not None:
            self.send("status", {"model": "on", "why": "kept the running model; new model.bin: " + why})
            return
        self._keep_as_previous(data)
        self._activate(engine, self.model_path)

    # ---- one loop iteration ----
    def step(self, t):
        polled = self._guard("sensor", self.sampler.poll, t)
        if polled is not None:
            for kind, payload in polled[1]:
                self.send(kind, payload, t)
        if self._next_feature_t is None:
            self._next_feature_t = t
        if t >= self._next_feature_t or self._next_feature_t - t > self.features.period_s:
            self._feature_step(t)
            period = self.features.period_s
            self._next_feature_t = (t // period + 1) * period
        if t >= self._next_model_check_t or self._next_model_check_t - t > self.settings["model_check_s"]:
            self._next_model_check_t = t + self.settings["model_check_s"]
            self._guard("model", self.check_model_file)
        if t >= self._next_heartbeat_t or self._next_heartbeat_t - t > self.settings["heartbeat_s"]:
            self._next_heartbeat_t = t + self.settings["heartbeat_s"]
            self._guard("status", self._heartbeat, t)
        if not self.healthy_reported and t - self.started_at >= self.settings["healthy_s"]:
            self.healthy_reported = True
            if self.boot_counter is not None:
                self._guard("boot", self.boot_counter.healthy)

    def _feature_step(self, t):
        current = self.sampler.current(t)
        last_slot = self.features.last_slot()
        if last_slot is not None and t // self.features.period_s < last_slot:
            # the clock was set back (e.g. the host set the RTC): start a new window
            self.features = FeatureState(self.features.period_s, self.features.window, self.settings["utc_offset_s"])
            self.send("status", {"state": "clock_set_back", "why": "feature window restarted"}, t)
        # sensor faults first: a stuck or drifting quantity is no evidence for this step's rules
        for ev in self._guard("faults", self.alerts.update_faults, t, current, self.sampler.health_report()) or []:
            self.send("alert", ev, t)
        row = self._guard("features", self.features.add, t, current)
        reading = {}
        for q in self.fitted:
            reading[q] = current.get(q)
        if row is not None:
            for key in ("vpd_kpa", "dew_point_c", "dli_mol_m2"):
                reading[key] = row[key]
        self.send("reading", reading, t)
        if row is not None:
            events = self._guard("rules", self.alerts.update_rules, t, row) or []
            for ev in events:
                self.send("alert", ev, t)
            if self.engine is not None:
                for ev in self._guard("model", self._model_step, t, row) or []:
                    self.send("alert", ev, t)
        for ev in self._guard("alerts", self.alerts.update_sensors, t, self.sampler.health_report()) or []:
            self.send("alert", ev, t)
        if self.log is not None:
            self._guard("flashlog", self.log.append, t, current, self._flags())

    def _model_step(self, t, row):
        meta = self.engine.meta
        window = int(meta.get("window", 1) or 1)
        floats, missing = build_vector(self.features.rows(window), meta["features"],
                                       meta["norm_mean"], meta["norm_std"], window)
        if floats is None:
            names = ["window not full" if m.startswith("window:") else m for m in missing]
            names = [n for i, n in enumerate(names) if n not in names[:i]]
            summary = ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
            if summary != self._model_missing:
                self._model_missing = summary
                self.send("status", {"model": "waiting", "why": "inputs unavailable: " + summary}, t)
            return []
        if self._model_missing is not None:
            self._model_missing = None
            self.send("status", {"model": "running", "why": "all inputs available"}, t)
        probabilities = self.engine.predict(floats)
        return self.alerts.update_model(t, list(self.engine.labels), list(probabilities), row)

    def _flags(self):
        flags = 0
        if self.safe_mode:
            flags |= FLAG_SAFE_MODE
        if self.engine is None:
            flags |= FLAG_MODEL_OFF
        for h in self.sampler.health.values():
            if h.state == "failed":
                flags |= FLAG_SENSOR_FAILED
        if self.alerts.active():
            flags |= FLAG_ALERT_ACTIVE
        return flags

    def _heartbeat(self, t):
        mem = _mem_free()
        health = {}
        for name, h in self.sampler.health.items():
            health[name] = h.state
        self.send("status", {"state": "running", "uptime_s": t - self.started_at, "mem_free": mem,
                             "health": health, "active_alerts": self.alerts.active(),
                             "model": "on" if self.engine is not None else "off",
                             "errors": self.errors}, t)

    # ---- the loop ----
    def boot_status(self):
        self.send("status", {"state": "boot", "version": VERSION, "board": self.board.get("name", "?"),
                             "boot_count": self.boot_count, "safe_mode": self.safe_mode,
                             "why": self.safe_reason, "sensors": [s.name for s in self.sampler.sensors],
                             "log": None if self.log is None else self.log.recovered})
        if self.boot_problem:
            self.send("error", {"where": "boot", "error": self.boot_problem})

    def sleep_until(self, target_t):
        """Sleep (light sleep when configured) until target_t, feeding the watchdog."""
        if self.outputs:
            self.idle_outputs()
        clock = self.hal.clock
        chunk = int(self.settings["sleep_chunk_ms"])
        light = getattr(self.hal, "lightsleep", None) if self.settings["sleep"] in ("light", "deep") else None
        start = clock.time_s()
        while True:
            now = clock.time_s()
            left_ms = (target_t - now) * 1000
            if left_ms <= 0 or now < start:  # done, or the clock was set back
                break
            ms = left_ms if left_ms < chunk else chunk
            if light is not None:
                light(ms)  # deep sleep would restart the board and lose the window: light instead
            else:
                clock.sleep_ms(ms)
            self.feed()

    def feed(self):
        wdt = getattr(self.hal, "watchdog", None)
        if wdt is not None:
            try:
                wdt.feed()
            except Exception as exc:
                self.report_error("watchdog", exc)

    def run(self, seconds=None):
        """Loop until `seconds` of board time have passed (forever when None)."""
        clock = self.hal.clock
        end = None if seconds is None else clock.time_s() + seconds
        while True:
            t = clock.time_s()
            if end is not None and t >= end:
                return self
            self.step(t)
            self.feed()
            next_t = min(self.sampler.next_due(t + 1), self._next_feature_t, t + self.features.period_s)
            if end is not None and next_t > end:
                next_t = end
            self.sleep_until(next_t)


def run(hal, board, hours=None, seconds=None, **options):
    """Start the app on a HAL and run it for `hours` (or `seconds`) of board time.

    options go to App (sensors=, engine_loader=, out=, safe_mode=, boot_count=,
    boot_counter=, model_path=, log_path=, opener=, stat=, outputs=). Returns the App.
    """
    if hours is not None:
        seconds = int(hours * 3600)
    app = App(hal, board, **options)
    app.boot_status()
    app.load_model()
    return app.run(seconds)


def main(board_path="board.json", settings_path="config.json", boot_path="boot.json"):
    """Entry point on a board (device/main.py): load the config, pick the HAL, run forever.

    config.json (optional) holds app settings (DEFAULTS keys) and "alerts" overrides.
    """
    from verdant.board import load_board
    board = load_board(board_path)
    settings = None
    try:
        f = open(settings_path)
    except OSError:
        f = None
    if f is not None:
        import json
        try:
            settings = json.loads(f.read())
        except ValueError as exc:
            raise ValueError("%s: not valid JSON (%s)" % (settings_path, exc))
        finally:
            f.close()
    hal = make_hal(board)
    outputs, problem = _configured_outputs(hal, board)
    options = {"boot_problem": problem} if problem else {}
    return boot(hal, board, BootCounter(boot_path), settings=settings, outputs=outputs, **options)


def _configured_outputs(hal, board):
    """([outputs], problem or None): MQTT when secrets.json is on the board (verdant.outputs)."""
    try:
        from verdant.outputs import from_board_files
        return from_board_files(hal, board), None
    except Exception as exc:  # a broken secrets file must not stop the serial line and the log
        return [], "outputs: " + _error_text(exc)


def boot(hal, board, counter, hours=None, **options):
    """Count this start, choose normal or safe mode, and run (options as for run())."""
    try:
        boots = counter.count_boot()
        safe, why = counter.safe_mode()
    except Exception as exc:  # e.g. a read-only file system: run normally rather than crash-loop
        boots, safe, why = None, False, None
        options.setdefault("boot_problem", "boot counter unusable: " + _error_text(exc))
    return run(hal, board, hours=hours, boot_count=boots, boot_counter=counter,
               safe_mode=why if safe else None, **options)


class StdoutSerial:
    """Protocol lines to sys.stdout (the USB/UART REPL stream on boards and the vboard)."""

    def write(self, buf):
        import sys
        out = getattr(sys.stdout, "buffer", None)
        if out is not None:
            out.write(buf)
        else:
            sys.stdout.write(buf.decode())
        return len(buf)


def make_hal(board):
    """The HAL for where we run: the virtual board, the Unix-port sim, or a real port."""
    try:
        import vboard_env  # only present on the virtual board
    except ImportError:
        vboard_env = None
    if vboard_env is not None:
        hal = vboard_env.make_hal(board)
        hal.serial = StdoutSerial()  # the vboard's serial line is this process's stdout
        return hal
    if board.get("port") == "unix":
        from verdant.hal.sim import SimClock
        from verdant.sim import make_sim_hal
        hal = make_sim_hal(board, SimClock(start_s=1767225600), None)
        hal.serial = StdoutSerial()
        return hal
    import machine
    from verdant.hal.machine_hal import MachineHAL
    return MachineHAL(board, machine)
