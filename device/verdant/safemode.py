"""Boot counter: repeated crashes before a healthy period put the board in safe mode.

main.py calls count_boot() first thing on every start; the app calls healthy()
once it has run `healthy_s` without an exception, which resets the count. If the
count reaches max_boots, the board crashed that many times in a row without ever
running long enough: the app starts in safe mode (rules only, no model, no
config.json) instead of crash-looping. A start that ended in MemoryError sends the
next start straight to safe mode. main.py records the last crash's text with record_crash().

The file is a tiny JSON object, e.g. {"boots": 2, "last_error": "MemoryError: ..."};
a missing or damaged file counts as zero boots.

Example:
    counter = BootCounter("boot.json")
    counter.count_boot()
    safe, why = counter.safe_mode()
"""
import json

DEFAULT_MAX_BOOTS = 3


class BootCounter:
    def __init__(self, path="boot.json", max_boots=DEFAULT_MAX_BOOTS, opener=open):
        if max_boots < 2:
            raise ValueError("BootCounter: max_boots must be >= 2, got %r" % max_boots)
        self.path = path
        self.max_boots = max_boots
        self.opener = opener

    def read(self):
        try:
            f = self.opener(self.path, "r")
        except OSError:
            return {"boots": 0}
        try:
            state = json.loads(f.read())
        except Exception:  # torn or garbage file: start counting again
            return {"boots": 0}
        finally:
            f.close()
        if not isinstance(state, dict) or not isinstance(state.get("boots"), int):
            return {"boots": 0}
        return state

    def _write(self, state):
        f = self.opener(self.path, "w")
        try:
            f.write(json.dumps(state))
        finally:
            f.close()

    def count_boot(self):
        """Count this boot; returns the number of boots since the last healthy period."""
        state = self.read()
        state["boots"] = state["boots"] + 1
        self._write(state)
        return state["boots"]

    def record_crash(self, text):
        state = self.read()
        state["last_error"] = str(text)[:200]
        self._write(state)

    def healthy(self):
        """The app ran long enough: the next boot starts normally."""
        state = self.read()
        if state["boots"] != 0 or "last_error" in state:
            self._write({"boots": 0})  # and the last crash is history: no safe mode for it

    def safe_mode(self):
        """(True, reason) when this boot should run in safe mode, else (False, None)."""
        state = self.read()
        boots = state["boots"]
        last = state.get("last_error") or ""
        if boots >= 1 and last.startswith("MemoryError"):
            return True, "the last start ran out of heap (%s)" % last
        if boots < self.max_boots:
            return False, None
        why = "%d starts in a row ended before a healthy period" % boots
        if state.get("last_error"):
            why += "; last error: " + state["last_error"]
        return True, why
