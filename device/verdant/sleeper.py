"""Sleeping between samples without starving the watchdog."""

_TICKS_MASK = 0x3FFFFFFF  # time.ticks_ms() wraps at 2^30 on every port
_TICKS_HALF = 0x20000000


def ticks_diff(end, start):
    """end - start in ms for two ticks_ms() values (as time.ticks_diff), small ints only."""
    return ((end - start + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF


def sleep_until(clock, target_t, chunk_ms, light=None, feed=None, now=None, feed_failed=None):
    """Sleep until board time target_t in pieces of at most chunk_ms, calling feed() after
    each; light(ms) (light sleep) instead of clock.sleep_ms when given. now(): the time in
    target_t's units (firmware seconds from the app; clock.time_s by default).
    feed_failed(exc): a feed() that raised is handed to it and the sleep goes on (without
    it the exception goes up).

    The board time is read once; the pieces are counted on clock.ticks_ms(), which stays a
    small int on 32-bit ports (epoch seconds and milliseconds do not: each reading of them
    would be a heap object). A clock set during the sleep is noticed by the next step.
    Each piece costs awake time on a battery: the loop calls only ticks_ms, the sleep and
    feed, and its try lives in this frame (made once per sleep): a function with a named
    exception handler gets its frame from the heap on each call on 32-bit ports."""
    total_ms = (target_t - (now or clock.time_s)()) * 1000
    if total_ms <= 0:
        return
    ticks_ms = clock.ticks_ms  # looked up once
    sleep = light if light is not None else clock.sleep_ms  # deep sleep would restart the board: light
    start = ticks_ms()
    while True:
        left_ms = total_ms - (((ticks_ms() - start + _TICKS_HALF) & _TICKS_MASK) - _TICKS_HALF)  # ticks_diff
        if left_ms <= 0:
            break
        sleep(left_ms if left_ms < chunk_ms else chunk_ms)
        if feed is not None:
            if feed_failed is None:
                feed()
            else:
                try:
                    feed()
                except Exception as exc:
                    feed_failed(exc)
