# Flash log: record format, ring wrap, power cut at every byte of an append.
import struct
from verdant import flashlog
from verdant.flashlog import FlashLog, read_log, records_to_csv, pack_record, unpack_record
from verdant.crc32 import crc32_fallback
from memfs import MemFS, PowerCut
from mpytest import raises, approx


def values_for(i):
    return {"air_temp_c": 20.0 + i * 0.25, "rh_pct": 60.0 + (i % 10), "co2_ppm": None if i % 3 == 0 else 400.0 + i,
            "soil_moisture_pct": 35.5}


def test_record_layout_exact_bytes():
    raw = pack_record(5, 1700000000, {"air_temp_c": 21.5}, flashlog.FLAG_MODEL_OFF)
    assert len(raw) == 44
    assert raw[:8] == struct.pack("<II", 5, 1700000000)
    assert struct.unpack("<f", raw[8:12])[0] == 21.5
    assert raw[12:16] == b"\x00\x00\xc0\x7f" or struct.unpack("<f", raw[12:16])[0] != struct.unpack("<f", raw[12:16])[0]
    assert raw[36:40] == b"\x02\x00\x00\x00"
    assert raw[40:] == struct.pack("<I", crc32_fallback(raw[:40]))
    rec = unpack_record(raw)
    assert rec["values"]["air_temp_c"] == 21.5 and rec["values"]["rh_pct"] is None and rec["flags"] == 2


def test_append_read_and_csv():
    fs = MemFS()
    log = FlashLog("v.log", capacity=8, opener=fs.open)
    assert log.recovered == "new" and len(fs.files["v.log"]) == 32 + 8 * 44
    for i in range(5):
        assert log.append(1000 + 60 * i, values_for(i), i) == i
    records, bad = read_log(fs.files["v.log"])
    assert [r["seq"] for r in records] == [0, 1, 2, 3, 4] and bad == 0
    assert approx(records[4]["values"]["air_temp_c"], 21.0, 1e-6)
    text = records_to_csv(records)
    lines = text.splitlines()
    assert lines[0] == "timestamp_s,air_temp_c,rh_pct,co2_ppm,light_lux,par_umol_m2_s,soil_moisture_pct,soil_temp_c,flags"
    assert lines[1] == "1000,20,60,,,,35.5,,0"
    assert lines[2] == "1060,20.25,61,401,,,35.5,,1"


def test_ring_wraps_and_file_size_stays_bounded():
    fs = MemFS()
    log = FlashLog("v.log", capacity=6, opener=fs.open)
    for i in range(20):
        log.append(i, values_for(i))
    assert len(fs.files["v.log"]) == 32 + 6 * 44
    assert [r["seq"] for r in log.records()] == list(range(14, 20))
    reopened = FlashLog("v.log", capacity=99, opener=fs.open)  # keeps the file's own capacity
    assert reopened.capacity == 6 and reopened.next_seq == 20 and reopened.recovered == "header"


def test_a_truncated_log_is_extended_back_to_its_capacity():
    fs = MemFS()
    log = FlashLog("v.log", capacity=6, opener=fs.open)
    for i in range(4):
        log.append(i, values_for(i))
    fs.files["v.log"] = fs.files["v.log"][:32 + 2 * 44 + 10]  # cut inside record 2
    reopened = FlashLog("v.log", capacity=3, opener=fs.open)
    assert reopened.capacity == 6 and reopened.recovered == "header+extended"
    assert len(fs.files["v.log"]) == 32 + 6 * 44 and reopened.next_seq == 4
    reopened.append(4, values_for(4))
    assert [r["seq"] for r in reopened.records()] == [0, 1, 4]  # 2 torn, 3 cut off


def test_power_cut_at_every_byte_loses_at_most_the_record_being_written():
    base = MemFS()
    log = FlashLog("v.log", capacity=5, opener=base.open)
    for i in range(7):  # wrapped once, so slots hold older records to tear over
        log.append(100 + i, values_for(i))
    append_bytes = 44 + 32
    outcomes = {"old": 0, "new": 0}
    for budget in range(append_bytes + 1):
        fs = base.copy()
        log = FlashLog("v.log", opener=fs.open)
        fs.budget = budget
        try:
            log.append(107, values_for(7))
            assert budget == append_bytes
        except PowerCut:
            assert budget < append_bytes
        fs.budget = None
        after = FlashLog("v.log", opener=fs.open)  # reboot
        seqs = [r["seq"] for r in after.records()]
        if seqs[-1] == 7:
            outcomes["new"] += 1
            assert seqs == [3, 4, 5, 6, 7], (budget, seqs)
            assert after.next_seq == 8
        else:
            outcomes["old"] += 1
            assert seqs in ([3, 4, 5, 6], [2, 3, 4, 5, 6]), (budget, seqs)  # slot 2 torn or untouched
            assert after.next_seq == 7, (budget, after.next_seq)
        after.append(200, values_for(8))  # the log keeps working after the cut
        seqs = [r["seq"] for r in after.records()]
        assert seqs[-1] == after.next_seq - 1 and seqs == sorted(seqs) and len(seqs) >= 4, (budget, seqs)
        for r in after.records():
            if r["seq"] < 7:
                assert approx(r["values"]["air_temp_c"], 20.0 + r["seq"] * 0.25, 1e-6)
    assert outcomes["old"] == 44 and outcomes["new"] == 33  # torn record; record whole (header torn or not)


def test_torn_header_found_by_scan():
    fs = MemFS()
    log = FlashLog("v.log", capacity=4, opener=fs.open)
    for i in range(6):
        log.append(i, values_for(i))
    fs.files["v.log"][5] ^= 0xFF  # damage the header
    after = FlashLog("v.log", opener=fs.open)
    assert after.recovered == "scan" and after.next_seq == 6
    assert FlashLog("v.log", opener=fs.open).recovered == "header"  # header rewritten


def test_reader_refuses_non_log_and_counts_torn_slots():
    with raises(flashlog.FlashLogError, "not 32 + n x 44"):
        read_log(b"hello")
    fs = MemFS()
    log = FlashLog("v.log", capacity=4, opener=fs.open)
    log.append(1, values_for(1))
    log.append(2, values_for(2))
    fs.files["v.log"][32 + 44 + 3] ^= 1
    records, bad = read_log(fs.files["v.log"])
    assert [r["seq"] for r in records] == [0] and bad == 1


def test_garbage_file_is_replaced_by_a_new_log():
    fs = MemFS({"v.log": bytearray(b"not a log at all")})
    log = FlashLog("v.log", capacity=3, opener=fs.open)
    assert log.recovered == "new" and log.records() == []


def test_real_file_on_the_unix_port():
    import os
    path = "/tmp/verdant_flashlog_test_%d.log" % os.getpid() if hasattr(os, "getpid") else "/tmp/verdant_flashlog_test.log"
    try:
        os.remove(path)
    except OSError:
        pass
    try:
        log = FlashLog(path, capacity=3)
        for i in range(4):
            log.append(50 + i, values_for(i))
        again = FlashLog(path)
        assert again.next_seq == 4 and [r["seq"] for r in again.records()] == [1, 2, 3]
        assert os.stat(path)[6] == 32 + 3 * 44
    finally:
        os.remove(path)


def test_recent_reads_the_newest_records_across_the_wrap_and_skips_a_torn_one():
    fs = MemFS()
    log = FlashLog("v.log", capacity=8, opener=fs.open)
    assert log.recent(4) == []
    for i in range(11):  # wraps: slots hold seq 3..10
        log.append(1000 + 60 * i, values_for(i))
    assert [r["seq"] for r in log.recent(4)] == [7, 8, 9, 10]
    assert [r["seq"] for r in log.recent(50)] == [3, 4, 5, 6, 7, 8, 9, 10]  # at most the capacity
    data = fs.files["v.log"]
    data[32 + (9 % 8) * 44 + 10] ^= 0xFF  # seq 9 torn
    recent = log.recent(4)
    assert [r["seq"] for r in recent] == [7, 8, 10] and recent[-1]["t"] == 1000 + 600
