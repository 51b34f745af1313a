"""Boot counter: repeated crashes before a healthy period put the board in safe mode.

main.py calls count_boot() first thing on every start; the app calls healthy()
once it has run `healthy_s` without an exception, which resets the count. If the
count reaches max_boots, the board crashed that many times in a row without ever
running long enough: the app starts in safe mode (rules only, no model, no
config.json) instead of crash-looping. A start that ended in MemoryError sends the
next start straight to safe mode. main.py records the last crash's text with record_crash().

Safe mode after a MemoryError (or after a crash in a retry of normal mode) is
temporary: its cause may be transient (heap fragmentation). After retry_delay_s() of
uptime in safe mode the app calls schedule_retry() and resets; the next start runs
normally. A crash in that retry sends the board back to safe mode with the delay
doubled (capped); a healthy period in normal mode resets the back-off. Safe mode after
max_boots crashes in a row is not retried (a persistent fault: fix and deploy).

The file is a tiny JSON object, e.g. {"boots": 2, "last_error": "MemoryError: ...",
"retries": 1, "retry": "failed"}; a missing or damaged file counts as zero boots.

Example:
    counter = BootCounter("boot.json")
    counter.count_boot()
    safe, why = counter.safe_mode()
"""
import json

DEFAULT_MAX_BOOTS = 3
RETRY_MARK = "retry"  # state["retry"]: True while normal mode is being retried, "failed" after it crashed


def retry_delay_s(retries, base_s, cap_s):
    """Uptime in safe mode before normal mode is tried again: base_s doubled per
    consecutive failed retry, at most cap_s."""
    delay = base_s
    for _ in range(retries):
        if delay >= cap_s:
            break
        delay *= 2
    return delay if delay < cap_s else cap_s


def replace_file(tmp, path):
    """Renames tmp over path (a write that a power cut leaves old or new, never torn)."""
    import os
    try:
        os.rename(tmp, path)
    except OSError:  # FAT does not rename over an existing file (littlefs does)
        os.remove(path)
        os.rename(tmp, path)


class BootCounter:
    def __init__(self, path="boot.json", max_boots=DEFAULT_MAX_BOOTS, opener=open, rename=None):
        if max_boots < 2:
            raise ValueError("BootCounter: max_boots must be >= 2, got %r" % max_boots)
        self.path = path
        self.max_boots = max_boots
        self.opener = opener
        if rename is None and opener is open:
            rename = replace_file
        self.rename = rename  # None (an opener of its own without a rename): write in place

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
        """Write a temporary file, then rename it over the state: a power cut leaves the old
        state or the new one (a torn file would only count as zero boots, but lose the back-off)."""
        tmp = self.path + ".tmp" if self.rename is not None else self.path
        f = self.opener(tmp, "w")
        try:
            f.write(json.dumps(state))
        finally:
            f.close()
        if self.rename is not None:
            self.rename(tmp, self.path)

    def count_boot(self):
        """Count this boot; returns the number of boots since the last healthy period."""
        state = self.read()
        state["boots"] = state["boots"] + 1
        self._write(state)
        return state["boots"]

    def record_crash(self, text):
        state = self.read()
        state["last_error"] = str(text)[:200]
        if state.get(RETRY_MARK) is True:  # the retry of normal mode failed: longer back-off
            state[RETRY_MARK] = "failed"
            state["retries"] = self.retries(state) + 1
        self._write(state)

    def healthy(self, safe_mode=False, retry_s=None, retry_max_s=None):
        """The app ran long enough: the next boot starts normally. In normal mode the
        retry back-off starts again, and retry_s/retry_max_s (the settings when not the
        defaults) are kept for safe mode, which does not read config.json; in safe mode
        the back-off and the kept settings stay for the next retry."""
        state = self.read()
        keep = {"boots": 0}
        if safe_mode:
            if self.retries(state):
                keep["retries"] = self.retries(state)
            retry_s, retry_max_s = state.get("retry_s"), state.get("retry_max_s")
        if retry_s is not None:
            keep["retry_s"] = retry_s
        if retry_max_s is not None:
            keep["retry_max_s"] = retry_max_s
        if state != keep:
            self._write(keep)  # and the last crash is history: no safe mode for it

    def schedule_retry(self):
        """Safe mode was healthy long enough: the next start tries normal mode again."""
        state = self.read()
        keep = {"boots": 0, "retries": self.retries(state), RETRY_MARK: True}
        for key in ("retry_s", "retry_max_s"):
            if key in state:
                keep[key] = state[key]
        self._write(keep)

    @staticmethod
    def retries(state):
        value = state.get("retries")
        return value if isinstance(value, int) and value > 0 else 0

    def transient(self):
        """True when safe mode now is for a cause that may pass (a MemoryError, a crash in
        a retry): the app tries normal mode again after retry_delay_s()."""
        state = self.read()
        return self._transient(state)

    def _transient(self, state):
        last = state.get("last_error") or ""
        if state["boots"] >= 1 and last.startswith("MemoryError"):
            return True
        return state.get(RETRY_MARK) == "failed" and bool(last)

    def safe_mode(self):
        """(True, reason) when this boot should run in safe mode, else (False, None)."""
        state = self.read()
        boots = state["boots"]
        last = state.get("last_error") or ""
        if boots >= 1 and last.startswith("MemoryError"):
            return True, "the last start ran out of heap (%s)" % last
        if self._transient(state):
            return True, "the retry of normal mode crashed (%s)" % last
        if boots < self.max_boots:
            return False, None
        why = "%d starts in a row ended before a healthy period" % boots
        if state.get("last_error"):
            why += "; last error: " + state["last_error"]
        return True, why
