"""Copy a board's flash log (verdant.log) over its serial port and decode it to the
replay CSV (timestamp_s, quantities..., flags) that training and replay read; the
firmware runs again afterwards.

Example:
    result = pull_logs("/dev/ttyUSB0", "pulled.csv")
    print(result["records"], result["bad_slots"])
"""
import os

from verdant_host.deploy_transport import open_transport
from verdant_host.errors import VerdantError
from verdant.flashlog import FlashLogError, read_log, records_to_csv

LOG_REMOTE = "verdant.log"


def read_board_file(link, path, chunk=512):
    """The bytes of a file on the board (binary-safe: hex over the REPL)."""
    size_text = link.exec("import os\ntry:\n print(os.stat(%r)[6])\nexcept OSError:\n print(-1)\n" % path)
    size = int(size_text.decode().strip().splitlines()[-1])
    if size < 0:
        raise VerdantError("pull-logs: the board has no %s (has the firmware run yet?)" % path)
    link.exec("import binascii\n_f = open(%r, 'rb')" % path)
    data = bytearray()
    try:
        while len(data) < size:
            out = link.exec("print(binascii.hexlify(_f.read(%d)).decode())" % chunk).decode().strip()
            if not out:
                break
            data.extend(bytes.fromhex(out))
    finally:
        link.exec("_f.close()")
    return bytes(data)


def pull_logs(port, out_csv, transport="mpremote", raw_copy=None, baudrate=115200, resume=True):
    """Copy verdant.log from the board, decode it, write the replay CSV. The REPL session
    stops the firmware; resume (default) restarts it afterwards (a soft reset runs main.py).

    Returns {"records": n, "bad_slots": n, "first_t": t, "last_t": t}."""
    with open_transport(transport, port, baudrate, "pull-logs") as link:
        try:
            data = read_board_file(link, LOG_REMOTE)
        finally:
            if resume:
                link.resume_firmware()
    if raw_copy:
        with open(raw_copy, "wb") as f:
            f.write(data)
    try:
        records, bad = read_log(data)
    except FlashLogError as exc:
        raise VerdantError("pull-logs: %s" % exc)
    folder = os.path.dirname(os.path.abspath(out_csv))
    os.makedirs(folder, exist_ok=True)
    with open(out_csv, "w") as f:
        f.write(records_to_csv(records))
    return {"records": len(records), "bad_slots": bad,
            "first_t": records[0]["t"] if records else None, "last_t": records[-1]["t"] if records else None}
