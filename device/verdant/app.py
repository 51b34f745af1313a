"""The firmware application: sample -> features -> model + rules -> alerts -> outputs, flash log.

step(t) polls the due sensors; on the feature grid sample(t) adds a feature row, sends
a reading line, runs the sensor-fault, rule, model and sensor-failure alerts and
appends to the flash log, after a check of model.bin (verdant.modelslot); then the hourly
status line is sent. A failing stage sends an error line and the loop goes on; a
MemoryError goes up to main.py and the next boot runs in safe mode. Time: hal.clock only,
as firmware seconds (verdant.hal.FIRMWARE_EPOCH: small ints on 32-bit ports); step(t),
sample(t) and the alert engines take those, lines and the flash log carry Unix seconds.
app.outputs: objects with write(line), optionally idle() (called before sleeping): the
serial port, then outputs= (MQTT). Wired by verdant.startup; host replay calls step(t).
"""
import gc

from verdant import learnedstate, saferetry, status, warmstart
from verdant.alerts import AlertEngine
from verdant.features import FEATURE_NAMES, FeatureState, summarize_missing
from verdant.flashlog import FlashLog
from verdant.hal import FIRMWARE_EPOCH, firmware_clock, storage_path
from verdant.modelslot import ModelSlot
from verdant.protocol import Encoder
from verdant.quantities import REFERENCE
from verdant.sampler import Sampler
from verdant.serialout import CallOutput, SerialOutput
from verdant.settings import merge
from verdant.sleeper import sleep_until

CLOCK_VALID_FROM = 0  # firmware seconds: before 2025-01-01 UTC the RTC was never set
READING_EXTRAS = ("vpd_kpa", "dew_point_c", "dli_mol_m2")  # derived values on every reading line


def _error_text(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text if text else "")


class App:
    def __init__(self, hal, board, sensors=None, settings=None, engine_loader=None, out=None, safe_mode=None,
                 boot_count=0, boot_counter=None, model_path="model.bin", log_path="verdant.log",
                 opener=open, stat=None, boot_problem=None, outputs=None, rename=None):
        self.hal = hal
        # hal.collect when the HAL has one (host replay: CPython frees by reference counting)
        self.collect = getattr(hal, "collect", None) or gc.collect
        self.board = board if isinstance(board, dict) else {}
        self.settings, alert_overrides, self.problems = merge(settings, self.board)
        if boot_problem:
            self.problems.insert(0, boot_problem)
        self.outputs = [CallOutput(out) if out is not None else SerialOutput(hal)] + list(outputs or ())
        self.encoder = Encoder(firmware_time=True)
        self.lines_sent = self.errors = self.output_failures = 0
        self.boot_counter, self.boot_count = boot_counter, boot_count
        self.safe_mode, self.safe_reason = bool(safe_mode), safe_mode or None
        site = None  # the board's place: a model's sun gates follow the sun there
        if self.settings["latitude_deg"] is not None:
            site = (self.settings["latitude_deg"], self.settings["longitude_deg"])
        try:
            self.alerts = AlertEngine(alert_overrides, detectors=not self.safe_mode, site=site)
        except ValueError as exc:
            self.problems.append("alerts: %s; default rules used" % exc)
            self.alerts = AlertEngine(detectors=not self.safe_mode, site=site)
        self.now = firmware_clock(hal.clock)  # board time in firmware seconds
        self.started_at = self.now()
        self.healthy_reported = False
        self.retry_at = saferetry.retry_time(self)
        if sensors is None:
            from verdant.sensors import build_sensors
            sensors = build_sensors(self.board, hal)
        self.sampler = Sampler(sensors, reads=self.settings["reads_per_sample"], after_read=self.feed)
        self.fitted = self.sampler.quantities()
        for sensor in self.sampler.sensors if self.alerts.faults is not None else ():
            for q in sensor.quantities:  # sensor-fault alerts name the sensor of a quantity
                self.alerts.faults.sensor_of.setdefault(q, sensor.name)
                if q == "rh_pct" and self.alerts.faults.rh_driver is None:  # the RH cross-check's threshold
                    self.alerts.faults.rh_driver = getattr(sensor, "driver", None)
        self._also = list(READING_EXTRAS)  # features the rules and the reading lines use
        for rule in self.alerts.rules.values():
            if rule["enabled"] and rule["series"] in FEATURE_NAMES and rule["series"] not in self._also:
                self._also.append(rule["series"])
        self.engine = None
        self.features = self._plain_features()
        self.model = ModelSlot(storage_path(hal, model_path), engine_loader or _engine_load, self.fitted,
                               self.settings["model_check_s"], opener, stat)
        # what the detectors learned, kept over reboots (verdant.learnedstate); written to a
        # temporary file renamed over it, or in place with an opener of its own and no rename
        self.learned_path = storage_path(hal, learnedstate.FILE)  # opened with self.model.opener
        if rename is None and opener is open:
            from verdant.safemode import replace_file
            rename = replace_file
        self.rename = rename
        self.learned_next_t = None   # board time of the next write; None: not read back yet
        self.learned_problem = None  # why the last write failed (said once)
        self.log = None
        try:
            self.log = FlashLog(storage_path(hal, log_path), self.settings["log_records"], opener=opener)
        except (OSError, ValueError) as exc:
            self.problems.append("flashlog: " + _error_text(exc))
        self.clock_valid = self.started_at >= CLOCK_VALID_FROM
        self._model_missing = None
        self._confirmed = False
        self._next_feature_t = None
        self._next_heartbeat_t = self.started_at + self.settings["heartbeat_s"]
        self._wake = None  # sleep_until's chunk and calls (_wake_calls), at the first sleep

    def send(self, kind, payload, t=None):
        view = self.encoder.encode_view(self.now() if t is None else t, kind, payload)
        line = None
        for output in self.outputs:
            try:
                if getattr(output, "writes_at_once", False):
                    output.write(view)  # the encoder's buffer itself: no line-sized block
                else:
                    if line is None:
                        line = bytes(view)  # outputs that may keep the line get their own copy
                    output.write(line)
            except MemoryError:
                raise
            except Exception:
                self.output_failures += 1  # an error line here could fail the same way
        self.lines_sent += 1

    def report_error(self, where, exc, **extra):
        self.errors += 1
        payload = {"where": where, "error": _error_text(exc) if isinstance(exc, BaseException) else str(exc)}
        for key in extra:
            payload[key] = extra[key]
        self.send("error", payload)

    def stage_failed(self, where, exc):
        """A stage raised: an error line, and the loop goes on; a MemoryError goes up to
        main.py (the next boot runs in safe mode)."""
        if isinstance(exc, MemoryError):
            raise exc
        self.report_error(where, exc)

    def emit(self, events, t=None):
        """Send (kind, payload) events; an ("adopt", engine) event switches the model."""
        for kind, payload in events:
            if kind == "adopt":
                self.adopt(payload)
            else:
                if kind == "error":
                    self.errors += 1
                self.send(kind, payload, t)

    def alert(self, payloads, t):
        for payload in payloads:
            self.send("alert", payload, t)

    def _plain_features(self):
        return FeatureState(self.settings["feature_period_s"], self.settings["feature_window"],
                            self.settings["utc_offset_s"], self._also)

    def adopt(self, engine, warm=True):
        """Run this engine from now on: its alert settings, its feature grid and inputs;
        warm: its window refilled from the flash log (verdant.warmstart)."""
        self.engine = engine
        self._model_missing = None
        self._confirmed = False
        old = self.features
        if engine is None:
            self.features = self._plain_features()
        else:
            self.alerts.adopt_model(engine.meta)
            note = self.alerts.gates_note()
            if note is not None:  # never silently on the training site's clock hours
                self.send("status", {"gates": note})
            self.features = FeatureState.for_model(engine.meta, self._also, self.settings["utc_offset_s"],
                                                   getattr(engine, "quantize_value", None))
        self.features.clock_valid = self.clock_valid
        if warm:
            warmstart.refill(self)
        if self._next_feature_t is not None and self.features.period_s != old.period_s:
            self._next_feature_t = self.now()  # next feature step now, on the new grid

    def load_model(self, model_bytes=None):
        """Boot-time model choice (none in safe mode); model_bytes: model.bin read already."""
        if self.safe_mode:
            self.emit(self.model.off("safe mode: " + self.safe_reason))
        else:
            self.emit(self.model.boot(model_bytes))

    def prepare_detectors(self):
        """The sensor-fault detectors' arrays made now (the start calls it once the model is
        loaded and the boot-only modules are gone: the model load is the boot's peak), before
        the run's garbage; without it they are made at the first feature step."""
        if self.alerts.faults is not None:
            self.alerts.faults.prepare(self.fitted)

    def step(self, t):
        if self._next_feature_t is None:
            self._next_feature_t = t
        feature_step = t >= self._next_feature_t or self._next_feature_t - t > self.features.period_s
        try:  # between feature steps one read per sensor watches its health; the step's value is a median
            events = self.sampler.poll_events(t, None if feature_step else 1)
            if events:
                self.emit(events, t)
        except Exception as exc:
            self.stage_failed("sensor", exc)
        if feature_step:
            if not self.safe_mode:  # model.bin checked where it runs: a new model runs from this step on
                self.emit(self.model.poll(t))
            self.sample(t)
            period = self.features.period_s
            self._next_feature_t = (t // period + 1) * period
        if t >= self._next_heartbeat_t or self._next_heartbeat_t - t > self.settings["heartbeat_s"]:
            self._next_heartbeat_t = t + self.settings["heartbeat_s"]
            self.heartbeat(t)
        if not self.healthy_reported or self.retry_at is not None:  # else on_step has nothing to do
            saferetry.on_step(self, t)


    def _check_clock(self, t):
        valid = t >= CLOCK_VALID_FROM
        if valid != self.clock_valid:
            self.clock_valid = self.features.clock_valid = valid
            self.send("status", {"clock": "set" if valid else "unset",
                                 "why": "time-of-day features on" if valid else
                                 "board time before 2025: time-of-day features off until the clock is set"}, t)
        last_slot = self.features.last_slot()
        if last_slot is not None and t // self.features.period_s < last_slot:
            # the clock was set back (e.g. the host set the RTC): start a new window
            self.adopt(self.engine, warm=False)  # the log's times came from the wrong clock
            self.send("status", {"state": "clock_set_back", "why": "feature window restarted"}, t)

    def sample(self, t):
        """One feature step: features, reading line, rules, model, sensor alerts, flash log."""
        self.collect()  # garbage gone before this step's lasting objects: a small heap stays in one piece
        self._check_clock(t)
        if self.learned_next_t is None:
            learnedstate.on_step(self, t)  # read back at the first step with a set clock, before the detectors
        current = self.sampler.current(t)
        # sensor faults first: a stuck or drifting quantity is no evidence for this step's rules
        # the sampler's SensorHealth objects answer .get() like health_report()'s dicts, without them
        self.alert(self.alerts.update_faults(t, current, self.sampler.health), t)
        row = None
        try:
            row = self.features.add(t, current)
        except Exception as exc:
            self.stage_failed("features", exc)
        reading = {}
        for q in self.fitted:
            if q not in REFERENCE:  # a second sensor's view of the air: for the cross-checks only
                reading[q] = current.get(q)
        if row is not None:
            for key in READING_EXTRAS:
                reading[key] = row.get(key)
        self.send("reading", reading, t)
        if row is not None:
            self.alert(self.alerts.update_rules(t, row), t)
            if self.engine is not None:
                try:
                    self.alert(self._predict(t, row), t)
                except Exception as exc:
                    self.stage_failed("model", exc)
        self.alert(self.alerts.update_sensors(t, self.sampler.health), t)
        if self.features.memory is not None:  # a fault today is no reference for tomorrow
            self.features.remember = not self.alerts.unusual()
        if self.log is not None:
            try:
                self.log.append(t + FIRMWARE_EPOCH, current, status.flags(self))  # Unix seconds in the file
            except Exception as exc:
                self.stage_failed("flashlog", exc)
        if self.learned_next_t is not None:  # the hourly write, last: its temporary objects lie
            learnedstate.on_step(self, t)    # above the step's lasting ones, not between them

    def _predict(self, t, row):
        floats, missing = self.features.model.vector()
        if floats is None:
            summary = summarize_missing(missing)
            if summary != self._model_missing:
                self._model_missing = summary
                self.send("status", {"model": "waiting", "why": "inputs unavailable: " + summary}, t)
            return ()
        if self._model_missing is not None:
            self._model_missing = None
            self.send("status", {"model": "running", "why": "all inputs available"}, t)
        quantized = self.features.model.quantize is not None  # int8 input kept per slot (a real engine)
        probabilities = self.engine.predict_quantized(floats) if quantized else self.engine.predict(floats)
        events = self.alerts.update_model(t, self.engine.labels, probabilities, row)
        if not self._confirmed:
            self._confirmed = True
            self.emit(self.model.confirm(), t)
        return events

    def heartbeat(self, t):
        self.send("status", status.heartbeat(self, t), t)

    def boot_status(self):
        self.send("status", status.boot(self))
        for problem in self.problems:
            self.report_error("boot", problem)

    def sleep_until(self, target_t):
        """Sleep (light sleep when configured) until target_t, feeding the watchdog; outputs
        with an idle() hear of it first (the MQTT one may power the radio down)."""
        for output in self.outputs:  # (the named handler in _idle: here it would make this frame
            if getattr(output, "idle", None) is not None:  # a heap block at each sleep on 32-bit ports)
                self._idle(output)
        wake = self._wake or self._wake_calls()
        sleep_until(self.hal.clock, target_t, wake[0], wake[1], wake[2], self.now, wake[3])

    def _idle(self, output):
        try:
            output.idle()
        except Exception as exc:
            self.stage_failed("output", exc)

    def _wake_calls(self):
        """(chunk ms, light sleep, watchdog feed, feed failed) for sleep_until, made at the first
        sleep and kept: no bound method per sleep (heap)."""
        light = getattr(self.hal, "lightsleep", None) if self.settings["sleep"] in ("light", "deep") else None
        wdt = getattr(self.hal, "watchdog", None)  # its own feed after each piece: no call through self.feed
        self._wake = (int(self.settings["sleep_chunk_ms"]), light, None if wdt is None else wdt.feed,
                      self._feed_failed)
        return self._wake

    def feed(self):
        wdt = getattr(self.hal, "watchdog", None)
        if wdt is not None:
            try:
                wdt.feed()
            except Exception:  # unnamed: a named handler would put this frame on the heap each call (32-bit)
                self._feed_again(wdt)

    def _feed_again(self, wdt):
        """A feed raised: once more, for its error text (and a fed watchdog if it passes)."""
        try:
            wdt.feed()
        except Exception as exc:
            self._feed_failed(exc)
            return
        self.report_error("watchdog", "a feed raised; the retry fed it")

    def _feed_failed(self, exc):
        self.report_error("watchdog", exc)

    def run(self, seconds=None):
        """Loop until `seconds` of board time have passed (forever when None)."""
        end = None if seconds is None else self.now() + seconds
        while True:
            t = self.now()
            if end is not None and t >= end:
                return self
            self.step(t)
            self.feed()
            next_t = min(self.sampler.next_due(t + 1), self._next_feature_t, t + self.features.period_s)
            if self.retry_at is not None and t < self.retry_at < next_t:
                next_t = self.retry_at
            if end is not None and next_t > end:
                next_t = end
            self.sleep_until(next_t)


def _engine_load(data):
    from verdant.engine import load  # imported when a model file is there to load
    return load(data)


def run(hal, board, hours=None, seconds=None, **options):
    """Start the app on a HAL and run it for `hours` (or `seconds`) of board time.

    options go to App (sensors=, engine_loader=, out=, safe_mode=, boot_count=,
    boot_counter=, model_path=, log_path=, opener=, stat=, boot_problem=, outputs=, rename=).
    Returns the App.
    """
    if hours is not None:
        seconds = int(hours * 3600)
    app = App(hal, board, **options)
    app.boot_status()
    app.load_model()
    return app.run(seconds)
