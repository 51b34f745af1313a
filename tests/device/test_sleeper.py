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
