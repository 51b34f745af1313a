# The app's extra outputs: every encoded line reaches each output after the serial line,
# idle() runs before each sleep, and a failing output neither stops the loop nor the others.
from verdant import app as appmod
from verdant import protocol
from verdant.outputs import from_board_files, read_secrets
from appfakes import Truth, Hal, make_sensors, fake_load, MemStat, HOUR
from memfs import MemFS
from mpytest import raises

BOARD = {"name": "fake", "watchdog_timeout_ms": 8000, "sleep_mode": "none"}


class Collect:
    def __init__(self):
        self.lines = []
        self.idles = 0

    def write(self, line):
        self.lines.append(line)

    def idle(self):
        self.idles += 1


class Broken:
    def write(self, line):
        raise OSError(113)  # EHOSTUNREACH, as a dead link would


def _app(outputs):
    hal = Hal()
    fs = MemFS()
    application = appmod.App(hal, BOARD, sensors=make_sensors(hal, Truth()), engine_loader=fake_load,
                             opener=fs.open, stat=MemStat(fs), outputs=outputs)
    return hal, application


def test_outputs_get_every_line_and_idle_before_sleeps():
    first, second = Collect(), Collect()
    hal, application = _app([Broken(), first, second])
    application.boot_status()
    application.run(2 * HOUR)
    serial_lines = [line + b"\n" for line in bytes(hal.serial.data).split(b"\n")[:-1]]
    assert len(serial_lines) > 20
    assert first.lines == serial_lines and second.lines == serial_lines
    assert application.output_failures == len(serial_lines)
    assert first.idles > 0 and first.idles == second.idles
    kinds = [protocol.decode(line)[0]["k"] for line in first.lines]
    assert "reading" in kinds and "status" in kinds


def test_no_secrets_file_means_no_outputs():
    fs = MemFS()
    assert from_board_files(Hal(), BOARD, opener=fs.open) == []
    fs = MemFS({"secrets.json": bytearray(b'{"wifi": {"ssid": "x"}}')})
    assert from_board_files(Hal(), BOARD, opener=fs.open) == []


def test_broken_secrets_error_does_not_quote_the_file():
    fs = MemFS({"secrets.json": bytearray(b'{"wifi": {"password": "hunter2"')})
    with raises(ValueError) as caught:
        read_secrets("secrets.json", fs.open)
    text = str(caught.value)
    assert "secrets.json" in text and "hunter2" not in text
