"""The sensor drivers' conversion waits on a board (verdant.sensors.build_sensors passes
ConversionWait(config, hal).wait as every driver's sleep_ms): light sleep where the board
config allows it and the wait is long enough to be worth it, else a busy sleep; long waits in
watchdog-sized pieces, the watchdog fed before each. Why it is safe per port: docs/firmware.md,
Sleep and watchdog.
"""

# A driver's wait this long or longer is spent in light sleep (when the board config allows
# it). Getting in and out of light sleep costs under a millisecond: ESP-IDF budgets 212-476 us
# of software and 60 us of hardware time to leave it on an ESP32 (esp_hw_support/sleep_modes.c,
# DEFAULT_SLEEP_OUT_OVERHEAD_US, DEFAULT_HARDWARE_OUT_OVERHEAD_US); MicroPython's rp2 lightsleep
# keeps the crystal running as clk_ref and on waking re-locks the system PLL and reconfigures
# the clocks (ports/rp2/modmachine.c, clocks_extra.c), and itself falls back to a plain delay at
# 1 ms or less. From 10 ms at most a tenth of a wait goes on getting in and out; shorter waits
# (the 1-2 ms command and poll waits, an SHT4x's 9 ms) stay busy.
LIGHT_WAIT_MIN_MS = 10


class ConversionWait:
    """The drivers' sleep_ms on a board: wait(ms) for a sensor's conversion.

    Waits shorter than LIGHT_WAIT_MIN_MS are busy sleeps (clock.sleep_ms). Longer ones go in
    pieces of at most 3/4 of the board's watchdog timeout (the app's sleeper rule: a quarter to
    spare for waking and feeding), the watchdog fed before each piece: a driver's bounded
    polling can add up to more than the timeout within one read (an SCD4x with no data: 4.7 s
    to its next result, then up to 6 s of ready polls), which the sampler's feed after each read
    does not cover. Each piece is hal.lightsleep when the board config's sleep_mode is light or
    deep (deep is light sleep in the firmware, see verdant.app) and the hal has one; else busy.
    A light sleep that ends early (on rp2 any interrupt ends it: the USB controller's, while a
    host has the port open) is followed by another for the rest, counted on ticks_ms, so a
    sensor is never read before its conversion time.

    The watchdog is looked up at each long wait, not here: MachineHAL starts it at its first use.
    ticks_ms wraps at 2^30 on every port (verdant.sleeper.ticks_diff)."""

    def __init__(self, config, hal):
        self._hal = hal
        self._busy = hal.clock.sleep_ms
        self._ticks_ms = hal.clock.ticks_ms
        light = getattr(hal, "lightsleep", None) if config.get("sleep_mode") in ("light", "deep") else None
        self._light = light or self._busy
        self.chunk_ms = max(LIGHT_WAIT_MIN_MS, config.get("watchdog_timeout_ms", 8000) * 3 // 4)

    def wait(self, ms):
        """Waits ms milliseconds (a driver's conversion time). Few locals: this frame stays
        off the heap on 32-bit ports (more than 11 words is a heap block per call)."""
        if ms < LIGHT_WAIT_MIN_MS:
            self._busy(ms)
            return
        start = self._ticks_ms()
        left = ms
        while left > 0:
            wdt = getattr(self._hal, "watchdog", None)  # (MachineHAL starts it at the first use)
            if wdt is not None:
                wdt.feed()
            self._light(left if left < self.chunk_ms else self.chunk_ms)
            left = ms - (((self._ticks_ms() - start + 0x20000000) & 0x3FFFFFFF) - 0x20000000)  # ticks_diff
