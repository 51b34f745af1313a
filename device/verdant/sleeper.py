"""Sleeping between samples without starving the watchdog."""


def sleep_until(clock, target_t, chunk_ms, light=None, feed=None):
    """Sleep until board time target_t in pieces of at most chunk_ms, calling feed() after
    each; light(ms) (light sleep) instead of clock.sleep_ms when given. Returns early
    when the clock is set back."""
    start = clock.time_s()
    while True:
        now = clock.time_s()
        left_ms = (target_t - now) * 1000
        if left_ms <= 0 or now < start:  # done, or the clock was set back
            break
        ms = left_ms if left_ms < chunk_ms else chunk_ms
        if light is not None:
            light(ms)  # deep sleep would restart the board and lose the window: light instead
        else:
            clock.sleep_ms(ms)
        if feed is not None:
            feed()
