# The MQTT outbox in the Unix port: order kept, cursor survives a restart, a torn last
# line is cut off, an overflow drops the oldest lines and counts them.
import os
from verdant.outbox import Outbox
from mpytest import raises

import time
DIR = "/tmp/verdant-outbox-test-%d" % time.ticks_us()


def _fresh(name):
    try:
        os.mkdir(DIR)
    except OSError:
        pass
    path = DIR + "/" + name
    for p in (path, path + ".pos", path + ".tmp"):
        try:
            os.remove(p)
        except OSError:
            pass
    return path


def _line(i):
    return b'{"v":1,"seq":%d}\n' % i


def test_order_and_cursor_survive_a_restart():
    path = _fresh("a")
    box = Outbox(path)
    for i in range(30):
        box.append(_line(i))
    first = box.peek(20)
    assert first == [_line(i) for i in range(20)]
    box.advance(sum(len(l) for l in first[:12]))
    again = Outbox(path)  # the board rebooted
    assert again.peek(5) == [_line(i) for i in range(12, 17)]
    rest = again.peek(100)
    assert len(rest) == 18
    again.advance(sum(len(l) for l in rest))
    assert not again.pending() and os.stat(path)[6] == 0  # emptied once all was sent
    assert not Outbox(path).pending()


def test_torn_last_line_is_cut_off():
    path = _fresh("b")
    box = Outbox(path)
    box.append(_line(1))
    with open(path, "ab") as f:
        f.write(b'{"v":1,"se')  # power cut in the middle of an append
    box = Outbox(path)
    box.append(_line(2))
    assert box.peek(10) == [_line(1), _line(2)]


def test_overflow_drops_the_oldest_and_counts_them():
    path = _fresh("c")
    box = Outbox(path, max_bytes=8192)
    n = 2000
    for i in range(n):
        box.append(_line(i))
    assert box.size <= 8192
    kept = box.peek(n)
    seqs = [int(l.split(b":")[2][:-2]) for l in kept]
    assert seqs == list(range(seqs[0], n))  # the newest, in order, no hole
    assert box.dropped == seqs[0] and box.dropped > 0
    with raises(ValueError, "max_bytes"):
        Outbox(path, max_bytes=100)
