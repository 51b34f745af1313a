"""The model file's lifecycle on the board: which model runs, and when it changes.

model.bin is loaded at boot; a file the parser refuses (or that does not fit the
board, or needs more heap than is free) is reported and model.prev, the last model
that ran, is used instead. While running, model.bin is checked at most every check_s
(the app polls just before its feature steps, where a model runs); a new
valid model replaces the running one, a bad one is refused and the running model
keeps going. model.prev is replaced only after a new model has predicted once
(confirm()), so a model that loads but cannot run never pushes out the fallback.
When no model runs the status says "rules only" and why: the text of model.none (a
rules-only deploy writes it: no model fits the board's sensors), that there is no
(loadable) model file, or that there was no heap for it. A model.bin that could not be read
or loaded for lack of heap is not a bad file: it is tried again at each check (the boot is
the heap's peak, with the start's own objects still there), its error reported once.

Like the sampler's poll(), boot() and poll(t) return events, (kind, payload) pairs:
  ("status", {...}) / ("error", {...})   lines for the app to send
  ("adopt", engine)                     the app now runs this engine (None: no model)

Example:
    slot = ModelSlot("model.bin", load, fitted=["air_temp_c", "rh_pct"])
    for kind, payload in slot.boot(): ...
    for kind, payload in slot.poll(t): ...
"""
from verdant.modelmeta import model_fits


def read_whole(f):
    """An open file's bytes in one buffer of its size (no growing reads), after a collection:
    the buffer needs a free piece that large. MemoryError (with the size and the free heap)
    when there is none; a file object without readinto is read as it is."""
    if not hasattr(f, "readinto"):
        return f.read()
    import gc
    gc.collect()
    size = f.seek(0, 2)
    f.seek(0)
    try:
        buf = bytearray(size)
    except MemoryError:
        free = gc.mem_free() if hasattr(gc, "mem_free") else -1
        raise MemoryError("%d bytes; %d free, not in one piece" % (size, free))
    f.readinto(buf)
    return buf


def _error_text(exc):
    text = str(exc)
    return type(exc).__name__ + (": " + text if text else "")


class ModelSlot:
    def __init__(self, path, loader, fitted, check_s=60, opener=open, stat=None):
        self.path = path
        self.prev_path = path.rsplit(".", 1)[0] + ".prev"
        self.note_path = path.rsplit(".", 1)[0] + ".none"
        self.loader = loader
        self.fitted = fitted
        self.check_s = check_s
        self.opener = opener
        self._stat = stat
        self.engine = None
        self.state = None          # (on/off, why) last reported
        self.signature = None      # (size, mtime or CRC) of the model.bin last tried
        self._unconfirmed = None   # bytes of a new model.bin not yet kept as model.prev
        self._next_check_t = None
        self._heap_short = False     # the last read or load of a model file ran out of heap
        self._heap_reported = False  # a MemoryError on model.bin reported since the last model ran

    # ---- files ----
    def _read(self, path, events=None):
        """The file's bytes; None when absent, or (with events) when there is no heap for it."""
        try:
            f = self.opener(path, "rb")
        except OSError:
            return None
        try:
            return read_whole(f)
        except MemoryError as exc:
            if events is None:
                raise
            import gc
            gc.collect()
            self._heap_short = True
            why = str(exc)
            events.append(("error", {"where": "model", "file": path, "error": "MemoryError: no heap to read "
                                     "the model file" + (" (%s)" % why if why else "")}))
            return None
        finally:
            f.close()

    def _signature(self, path):
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
        # no modification times on this file system (some littlefs builds): a CRC of the bytes
        from verdant.crc32 import crc32
        data = self._read(path)
        return None if data is None else (st[6], crc32(data))

    # ---- loading ----
    def _load(self, path, data, events):
        """Engine for the bytes, or None with an error event naming why."""
        try:
            engine = self.loader(data)
        except MemoryError:
            import gc
            gc.collect()
            self._heap_short = True
            events.append(("error", {"where": "model", "file": path,
                                     "error": "MemoryError: the model needs more heap than is free"}))
            return None
        except Exception as exc:
            events.append(("error", {"where": "model", "file": path, "error": _error_text(exc)}))
            return None
        return engine

    def _retry_if_heap_short(self, events):
        """After a MemoryError reading or loading model.bin (_heap_short), the same file is
        tried again at the next check (signature forgotten). Returns the events, a repeated
        error left out."""
        if not self._heap_short:
            return events
        self._heap_short = False
        self.signature = None
        if self._heap_reported:
            events = [e for e in events if e[0] != "error"]
        self._heap_reported = True
        return events

    def _state(self, on, why, events, **extra):
        state = ("on" if on else "off", why)
        if state != self.state:
            self.state = state
            payload = {"model": state[0], "why": why}
            for key in extra:
                payload[key] = extra[key]
            events.append(("status", payload))

    def _activate(self, engine, path, events):
        self.engine = engine
        self._heap_reported = False
        meta = engine.meta
        self._state(True, "loaded", events, file=path, backend=getattr(engine, "backend", "?"),
                    labels=list(engine.labels), window=meta.get("window", 1), period_s=meta.get("period_s"))
        events.append(("adopt", engine))

    def off(self, why):
        """No model this boot (safe mode); returns the events."""
        events = []
        self._state(False, why, events)
        return events

    def boot(self, model_bytes=None):
        """Boot-time choice: model.bin (model_bytes: its bytes, read already), else model.prev.
        Returns the events."""
        events = []
        self.signature = self._signature(self.path)
        self._heap_short = False
        found = False
        for path in (self.path, self.prev_path):
            data = model_bytes if path == self.path and model_bytes is not None else self._read(path, events)
            model_bytes = None
            if data is None:
                continue
            found = True
            engine = self._load(path, data, events)
            if engine is None:
                continue
            why = model_fits(engine.meta, self.fitted)
            if why is not None:
                self._state(False, why, events, file=path)
                continue
            if path == self.path:
                self._unconfirmed = data
            self._activate(engine, path, events)
            return events
        note = self._read(self.note_path)
        if note:
            try:
                note = str(bytes(note[:200]), "utf-8").strip()
            except UnicodeError:
                note = "model.none is not text"
            self._state(False, "rules only: " + note, events)
        elif self.state is None or self.state[0] != "off":
            short = self._heap_short
            events = self._retry_if_heap_short(events)
            what = ("no heap for the model file at boot, tried again at the next check" if short
                    else "no loadable model file" if found else "no model file")
            self._state(False, "rules only: %s (%s, %s)" % (what, self.path, self.prev_path), events)
        return events

    def poll(self, t):
        """Every check_s: reload model.bin when it changed. Returns the events."""
        if self._next_check_t is not None and t < self._next_check_t and self._next_check_t - t <= self.check_s:
            return ()
        self._next_check_t = t + self.check_s
        signature = self._signature(self.path)
        if signature is None or signature == self.signature:
            return ()
        self.signature = signature
        events = []
        self._heap_short = False
        data = self._read(self.path, events)
        if data is None:
            return self._retry_if_heap_short(events)
        engine = self._load(self.path, data, events)
        if engine is None:
            events = self._retry_if_heap_short(events)
        why = "refused" if engine is None else model_fits(engine.meta, self.fitted)
        if why is not None:
            if self.engine is not None:
                events.append(("status", {"model": "on", "why": "kept the running model; new model.bin refused"
                                          if engine is None else "kept the running model; new model.bin: " + why}))
            else:
                self._state(False, why, events, file=self.path)
            return events
        self._unconfirmed = data
        self._activate(engine, self.path, events)
        return events

    def _same_as(self, path, data):
        """The file holds exactly these bytes (compared in small reads: no big buffer)."""
        try:
            f = self.opener(path, "rb")
        except OSError:
            return False
        try:
            pos = 0
            if hasattr(f, "readinto"):  # one 256-byte buffer and views: no copy per piece (heap)
                buf = bytearray(256)
                piece = memoryview(buf)
                whole = memoryview(data)
                while True:
                    n = f.readinto(buf)
                    if not n:
                        return pos == len(data)
                    if pos + n > len(data) or piece[:n] != whole[pos:pos + n]:
                        return False
                    pos += n
            while True:
                piece = f.read(256)
                if not piece:
                    return pos == len(data)
                if bytes(data[pos:pos + len(piece)]) != bytes(piece):
                    return False
                pos += len(piece)
        finally:
            f.close()

    def confirm(self):
        """The running model predicted once: keep it as model.prev. Returns the events."""
        data, self._unconfirmed = self._unconfirmed, None
        if data is None or self._same_as(self.prev_path, data):
            return ()
        try:
            f = self.opener(self.prev_path, "wb")
            try:
                f.write(data)
            finally:
                f.close()
        except Exception as exc:
            return [("error", {"where": "model", "file": self.prev_path, "error": _error_text(exc)})]
        return ()
