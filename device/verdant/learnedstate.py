"""What the board's detectors learned, kept on flash over reboots and power cuts: the
normal band's day records (verdant.normalband: per watched quantity today and the two days
before, hourly low/high) and the RH cross-check's state (verdant.dewpointdrift: its offset,
self-heating, first-day sums) and, with a site model, the CO2 set point the band followed
(verdant.normalband). Without them a restarted board is blind to a heating failure or a CO2
fault for a day, learns an RH drift under way as its new normal, and takes a grower's lowered
CO2 set point for dosing off again.

learned.bin, little-endian, 1 348 bytes at most (a board with every part):
  header  magic b"VLRN", version (u16), parts (u16: bit 0 the air_temp_c band, bit 1 the
          co2_ppm band, bit 2 the dew point check, bit 3 the CO2 set point), written at (i32, firmware seconds),
          utc_offset_s (i32), board key (u32: CRC-32 of the board's name, 30 bits), the band's
          day numbers (6 x i32: local days since the firmware epoch, -1 none; per quantity
          the day before yesterday, yesterday, today)                             44 bytes
  band    per quantity in parts: 3 days x (24 lows, 24 highs) float32           576 bytes
  dew     the cross-check's 17 float32 and 13 int32                             120 bytes
  co2     the site model's set point and shortfall it was followed under, the set point
          followed, the level steady hours are counted at (4 float32), their count, days and
          last day (3 int32; the last four: verdant.normalband's following())    28 bytes
  crc     CRC-32 of everything before it (u32)

A band read back with a learned hour learns from its first reading (verdant.normalband's settling
of a start with nothing learned ends: the enclosure is at the greenhouse air).

on_step(app, t) runs in every feature step: at the first one with a set clock, before the
detectors, it reads the file back, in two passes: the first through a 64-byte buffer checks size
and CRC, the second reads straight into the detectors' arrays (no file-sized buffer). Then, last
in the first feature step of each hour (an hour of the band completed: 24 writes a day), it
writes learned.bin.tmp and renames it over learned.bin (verdant.safemode.replace_file): a
power cut leaves the old file or the new one, and a torn one fails its CRC. Nothing is written
before the file was read (a board booting with its clock unset keeps it) or while the clock
is unset, nor in safe mode (no detectors run there).

Refused with a status line naming why, the board learning from scratch: not a learned-state
file, another version, truncated or too long, a CRC mismatch, another board's file, written
in the future (the clock went back), a band kept with another utc_offset_s, a record that is
not finite; a CO2 set point followed under another site model (its co2_hold differs) or one
that is not finite. Version 1 files (no CO2 set point part, the rest the same) are read.
A version 0 file with no parts (the header and its CRC, any board key) is what `verdant
forget-learned` writes (verdant_host.learned_forget): the status line says "forgotten" and
the board learns from scratch.
Dropped as out of date: band days before the day before yesterday, a dew point
state older than _DEW_MAX_AGE_S. A refused file stays until the next hourly write replaces it.
A write that fails (read-only or full flash) gives one error line, and another only after a
write succeeded again. Nothing here can stop the board: every failure is caught and said.
"""
import struct

from verdant.crc32 import crc32

try:
    from micropython import const
except ImportError:
    const = lambda x: x  # noqa: E731

FILE = "learned.bin"
_VERSION = const(2)                       # 1: the same without the CO2 set point part (still read)
_FORGOTTEN = const(0)                     # the version of `verdant forget-learned`'s file: a header, no parts
_MAGIC = const(b"VLRN")
_BAND = const(("air_temp_c", "co2_ppm"))  # verdant.normalband.WATCH's quantities, in the file's order
_DEW_PART = const(4)                      # the parts' bit of the dew point check
_CO2_PART = const(8)                      # the parts' bit of the CO2 set point followed
_DEW_MAX_AGE_S = const(172800)            # a dew point state older than 2 days is learned again
_FUTURE_SLACK_S = const(600)              # written later than this after board time: the clock went back
_DAY_S = const(86400)
_HOUR_S = const(3600)
_HEAD = const("<4sHHiiI")                 # then the 6 day numbers
_HEAD_SIZE = const(44)
_DAYS_AT = const(20)
_BAND_SIZE = const(576)
_DEW_SIZE = const(120)
_CO2 = const("<4f3i")
_CO2_SIZE = const(28)
# (module constants are const(): on a board they take no heap; the module holds its functions,
# FILE and this buffer)


def _key(app):
    """The board key: CRC-32 of the board's name, 30 bits (a small int on 32-bit ports)."""
    return crc32(str(app.board.get("name", "?")).encode()) & 0x3FFFFFFF


def on_step(app, t):
    """The read-back at the first feature step with a set clock (the app calls it before the
    detectors), then the hourly write (the app calls it last in each feature step)."""
    if app.alerts.band is None or not app.clock_valid:
        return  # safe mode; or an unset clock: days and ages would be wrong
    if app.learned_next_t is None:
        app.learned_next_t = (t // _HOUR_S + 1) * _HOUR_S
        payload = restore(app, t)
        if payload is not None:
            app.send("status", payload, t)
    elif t >= app.learned_next_t or app.learned_next_t - t > _HOUR_S:  # (or the clock went back)
        app.learned_next_t = (t // _HOUR_S + 1) * _HOUR_S
        save(app, t)


def restore(app, t):
    """Reads the file back into the detectors. The status payload to send (None: no file).
    Its parts are functions made for this call, once at boot: no heap after it."""
    def _forget_band(band):
        """The band learns from scratch: its day records emptied in place (kept for the readings
        to come: not freed and allocated again in the same step)."""
        for q in _BAND:
            for record in band.days.get(q, ()):
                record.reset(None)

    def _sound(record):
        """Every hour of a day record read back empty, or finite with low <= high (NaN is neither)."""
        for h in range(24):
            lo, hi = record.lo[h], record.hi[h]
            if not (-1e30 < lo <= hi < 1e30 or (lo > 1e38 and hi < -1e38)):
                return False
        return True

    def _intact(f, app, t, head):
        """First pass: None when the file is whole and this board's, else why not."""
        n = f.readinto(head) or 0
        if n < _HEAD_SIZE:
            return "truncated: %d bytes, not even a header" % n
        magic, version, parts, written, _, key = struct.unpack_from(_HEAD, head)
        if magic != _MAGIC:
            return "not a learned-state file"
        if version != _VERSION and (version != 1 or parts & _CO2_PART) and (version != _FORGOTTEN or parts):
            return "version %d, this firmware reads %d" % (version, _VERSION)
        size = _HEAD_SIZE + 4 + (_DEW_SIZE if parts & _DEW_PART else 0) + (_CO2_SIZE if parts & _CO2_PART else 0)
        for k in range(len(_BAND)):
            if parts & (1 << k):
                size += _BAND_SIZE
        crc = crc32(head)
        chunk = bytearray(64)
        view = memoryview(chunk)
        got = _HEAD_SIZE
        while got < size - 4:
            n = f.readinto(view[:min(64, size - 4 - got)])
            if not n:
                return "truncated: %d of %d bytes" % (got, size)
            crc = crc32(view[:n], crc)
            got += n
        n = f.readinto(view[:4])
        if n != 4:
            return "truncated: %d of %d bytes" % (got + (n or 0), size)
        if f.readinto(view[:1]):
            return "longer than its %d bytes" % size
        if struct.unpack_from("<I", chunk)[0] != crc:
            return "CRC mismatch: damaged"
        if version == _FORGOTTEN:
            return None  # written by the host, for whichever board it was on
        if key != _key(app):
            return "written by another board (not %s)" % app.board.get("name", "?")
        if written > t + _FUTURE_SLACK_S:
            return "written %d s in the future: the clock went back?" % (written - t)
        return None

    def _read_parts(f, app, t, head):
        """Second pass, the file intact: each part into its detector, or refused alone. The payload."""
        _, _, parts, written, offset, _ = struct.unpack_from(_HEAD, head)
        f.seek(_HEAD_SIZE)
        from verdant.normalband import DayRecord
        band = app.alerts.band
        payload = {"learned": "restored", "age_s": t - written}
        why = None
        if offset != int(band.settings["utc_offset_s"]):
            why = "kept with utc_offset_s %d, now %d" % (offset, band.settings["utc_offset_s"])
        today = (t + offset) // _DAY_S
        kept = usable = hours = 0  # days restored; the most days before today a quantity's band uses now; hours learned
        for k in range(len(_BAND)):
            if not parts & (1 << k):
                continue
            if why is not None:
                f.seek(_BAND_SIZE, 1)
                continue
            last = None
            before = 0
            days = band.days.get(_BAND[k])
            if days is None:  # as verdant.normalband allocates them at a quantity's first reading
                days = band.days[_BAND[k]] = [DayRecord(), DayRecord(), DayRecord()]
            for j, record in enumerate(days):
                f.readinto(record.lo)
                f.readinto(record.hi)
                day = struct.unpack_from("<i", head, _DAYS_AT + 4 * (3 * k + j))[0]
                if day > today:
                    why = "%s: day %d after today %d" % (_BAND[k], day, today)
                elif not _sound(record):
                    why = "%s: an hour not finite or low above high" % _BAND[k]
                elif day >= 0 and last is not None and day <= last:
                    why = "%s: days out of order" % _BAND[k]
                if day < 0 or day < today - 2:
                    record.reset(None)  # out of date: not the previous two days
                else:
                    record.day = last = day
                    kept += 1
                    for h in range(24):
                        if record.lo[h] <= record.hi[h]:
                            hours += 1
                    if day < today and record.usable():
                        before += 1
            usable = max(usable, before)
        if why is None and kept == 0 and parts & 3:  # (the band's two parts)
            why = "stale: no day of the last two (written %d h ago)" % ((t - written) // _HOUR_S)
        if why is not None:
            _forget_band(band)
            payload["band"] = "refused: " + why
        elif hours:
            band.settle_left = 0  # learned here before: the enclosure is at the greenhouse air (normalband.SETTLE_S)
        payload["band_days"] = 0 if why is not None else usable
        dew = "none kept"
        if not parts & _DEW_PART:
            pass
        elif "scd4x_rh_pct" not in app.fitted:
            dew = "refused: no SCD4x on this board"
        elif t - written > _DEW_MAX_AGE_S:
            dew = "refused: stale (written %d h ago)" % ((t - written) // _HOUR_S)
        else:
            from verdant.dewpointdrift import read_back
            faults = app.alerts.faults
            dew = read_back(faults.dew_state(), f.readinto)
            if dew is not None:
                faults.dew_state(None)
            dew = "restored" if dew is None else "refused: " + dew
        payload["dew_point"] = dew
        if parts & _CO2_PART:
            f.seek(_HEAD_SIZE + _BAND_SIZE * ((parts & 1) + (parts >> 1 & 1)) + (_DEW_SIZE if parts & _DEW_PART else 0))
            payload["co2_set_point"] = _read_co2(f, app, t, head, offset)
        if why is not None and dew != "restored":
            payload["learned"], payload["why"] = "refused", why
        return payload

    def _read_co2(f, app, t, head, offset):
        """The CO2 set point followed, back into the band if the site model is the one it was
        followed under (its co2_hold as the file has it); what happened, for the status line."""
        if f.readinto(memoryview(head)[:_CO2_SIZE]) != _CO2_SIZE:
            return "refused: truncated"
        site, below, now, level, hours, days, day = struct.unpack_from(_CO2, head)
        band = app.alerts.band
        if band.co2_site is None:
            return "refused: the site model has no CO2 set point"
        if abs(site - band.co2_site[0]) > 0.01 or abs(below - band.co2_site[1]) > 0.01:
            return "refused: followed under another site model's %d ppm, not %d" % (int(site + 0.5),
                                                                                 int(band.co2_site[0] + 0.5))
        if not (0 < now < 1e5 and 0 <= level < 1e5 and hours >= 0 and days >= 0 and day <= (t + offset) // _DAY_S):
            return "refused: not a set point (%r ppm, day %d)" % (now, day)
        was = band.co2_site[0]
        if not band.resume_following(now, level, hours, days, day):
            return "none followed (%d steady hours counted)" % hours
        app.alerts._follow_co2(was, now)  # the site model's CO2 gates, as when it was followed
        return "restored: %d ppm (site model %d)" % (int(now + 0.5), int(was + 0.5))

    name = app.learned_path
    try:
        f = app.model.opener(name, "rb")
    except OSError:
        name += ".tmp"  # a power cut between FAT's remove and rename leaves only the new file
        try:
            f = app.model.opener(name, "rb")
        except OSError:
            return None
    shown = name.rsplit("/", 1)[-1]
    try:
        head = bytearray(_HEAD_SIZE)
        why = _intact(f, app, t, head)
        if why is not None:
            return {"learned": "refused", "file": shown, "why": why}
        if struct.unpack_from("<H", head, 4)[0] == _FORGOTTEN:
            return {"learned": "forgotten", "file": shown, "age_s": t - struct.unpack_from("<i", head, 8)[0],
                    "why": "cleared by verdant forget-learned: learning from scratch"}
        payload = _read_parts(f, app, t, head)
        payload["file"] = shown
        return payload
    except Exception as exc:  # even a MemoryError: the board learns from scratch, it never stops here
        _forget_band(app.alerts.band)
        app.alerts.faults.dew_state(None)
        return {"learned": "refused", "file": shown, "why": "%s: %s" % (type(exc).__name__, exc)}
    finally:
        f.close()


def save(app, t):
    """Writes the file (a temporary one renamed over it when the app has a rename); a failure
    is reported once (an error line) and the board runs on."""
    try:
        _write(app, t, bytearray(_HEAD_SIZE))
    except Exception as exc:  # even a MemoryError: keeping what was learned is not worth a reset
        if app.learned_problem is None:
            app.report_error("learned", exc, file=app.learned_path)
        app.learned_problem = True
        return
    app.learned_problem = None


def _write(app, t, head):
    band, dew = app.alerts.band, app.alerts.faults.dew_state(False)
    parts = (_DEW_PART if dew is not None else 0) | (_CO2_PART if band.co2_site is not None else 0)
    for k in range(len(_BAND)):
        if _BAND[k] in band.days:
            parts |= 1 << k
    struct.pack_into(_HEAD, head, 0, _MAGIC, _VERSION, parts, t, int(band.settings["utc_offset_s"]),
                     _key(app))
    for k in range(len(_BAND)):
        days = band.days.get(_BAND[k])
        for j in range(3):
            day = None if days is None else days[j].day
            struct.pack_into("<i", head, _DAYS_AT + 4 * (3 * k + j), -1 if day is None else day)
    crc = crc32(head)
    for q in _BAND:
        for record in band.days.get(q, ()):
            crc = crc32(record.hi, crc32(record.lo, crc))
    if dew is not None:
        crc = crc32(dew[1], crc32(dew[0], crc))
    co2 = None
    if band.co2_site is not None:
        level, hours, days, day = band.following()
        co2 = struct.pack(_CO2, band.co2_site[0], band.co2_site[1], band.co2_hold[0], level, hours, days, day)
        crc = crc32(co2, crc)
    path = app.learned_path
    tmp = path + ".tmp" if app.rename is not None else path
    f = app.model.opener(tmp, "wb")
    try:
        f.write(head)
        for q in _BAND:
            for record in band.days.get(q, ()):
                f.write(record.lo)
                f.write(record.hi)
        if dew is not None:
            f.write(dew[0])
            f.write(dew[1])
        if co2 is not None:
            f.write(co2)
        f.write(struct.pack("<I", crc))
    finally:
        f.close()
    if app.rename is not None:
        app.rename(tmp, path)
