# verdant.sleeper.sleep_until: to the target in watchdog-sized pieces, across a ticks wrap.
from verdant.hal.sim import SimClock
from verdant.sleeper import sleep_until, ticks_diff


def _sleep(clock, seconds, chunk_ms, light=None):
    pieces, feeds = [], []
    def record(ms):
        pieces.append(ms)
        clock.sleep_ms(ms)
    sleep_until(clock, clock.time_s() + seconds, chunk_ms, light=light and record,
                feed=lambda: feeds.append(clock.ticks_ms()), now=clock.time_s)
    return pieces, feeds


def test_sleeps_to_the_target_in_pieces_no_longer_than_the_chunk_feeding_after_each():
    clock = SimClock(start_s=1767225600)
    start = clock.time_s()
    pieces, feeds = _sleep(clock, 10, 4000, light=True)
    assert clock.time_s() == start + 10
    assert pieces == [4000, 4000, 2000]
    assert len(feeds) == 3


def test_a_ticks_counter_wrapping_mid_sleep_neither_cuts_nor_stretches_it():
    clock = SimClock(start_s=0)
    clock._now_ms = (1 << 30) - 3000  # ticks_ms() wraps 3 s into the sleep
    start_ms = clock.now_ms()
    pieces, _ = _sleep(clock, 9, 4000, light=True)
    assert clock.now_ms() - start_ms == 9000
    assert pieces == [4000, 4000, 1000]
    assert ticks_diff(5, (1 << 30) - 5) == 10


def test_a_target_already_past_returns_at_once_without_sleeping():
    clock = SimClock(start_s=1767225600)
    before = clock.now_ms()
    pieces, feeds = _sleep(clock, -5, 4000, light=True)
    assert (pieces, feeds, clock.now_ms()) == ([], [], before)


def test_a_feed_that_raises_goes_to_feed_failed_and_the_sleep_goes_on():
    clock = SimClock(start_s=1767225600)
    start = clock.time_s()
    failed = []
    def feed():
        if not failed:
            raise OSError(5)
    sleep_until(clock, start + 10, 4000, feed=feed, now=clock.time_s, feed_failed=failed.append)
    assert clock.time_s() == start + 10
    assert len(failed) == 1 and isinstance(failed[0], OSError)


def test_without_feed_failed_a_feed_that_raises_goes_up():
    clock = SimClock(start_s=1767225600)
    def feed():
        raise OSError(5)
    try:
        sleep_until(clock, clock.time_s() + 10, 4000, feed=feed, now=clock.time_s)
    except OSError:
        return
    assert False, "no OSError"
