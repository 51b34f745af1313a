"""`verdant monitor` on a serial port, made to be left running.

- holds the port's lock (port_lock) and opens it exclusively, so deploy and pull-logs
  refuse clearly instead of fighting over the board;
- when the port goes away (a native-USB board resets, a cable is pulled) it says so,
  keeps the rows, and reopens the port as soon as it is back;
- SIGTERM and SIGHUP (service stop, terminal closed) end it cleanly: every row
  committed, the summary printed;
- rows are committed on a short timer even when nothing arrives, alerts at once.
"""
import signal
import sys
import threading
import time

from verdant_host.errors import VerdantError
from verdant_host.port_lock import PortLock

REOPEN_EVERY_S = 0.5


class SignalFlags:
    """While entered, these signals (names; default SIGTERM and SIGHUP) only set .received to the
    name of the last one, for the caller's loop to act on (installed in the main thread only;
    elsewhere nothing changes)."""

    def __init__(self, names=("SIGTERM", "SIGHUP")):
        self.received = None
        self._names = names
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for name in self._names:
                sig = getattr(signal, name, None)
                if sig is not None:
                    self._old[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum, frame):
        self.received = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _open(port, baudrate):
    import serial
    return serial.Serial(port, baudrate=baudrate, timeout=0.1, exclusive=True)


def run_monitor(port, db_path=None, exit_on=None, duration=None, baudrate=115200, out=sys.stdout,
                stop=None, stream=None, board=None, say=None, mqtt_url=None, outbox_path=None):
    """Watch a serial port (or any object with read(n)) until duration passes, stop() is true,
    SIGTERM/SIGHUP arrives, or an alert of severity >= exit_on is raised.

    Returns (exit code, Monitor): 0, or 3 when an --exit-on alert arrived.
    board: id stored with the rows (default: the port's name). say(text): where link
    messages go (default: stderr). mqtt_url: also publish every line there (monitor_mqtt),
    queued in outbox_path (default: beside the database) while the broker is away."""
    import os
    from verdant_host.monitor import Monitor
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    board = board or (os.path.basename(port) if port else "board")
    outputs = []
    if mqtt_url:
        from verdant_host.monitor_mqtt import bridge
        outbox_path = outbox_path or os.path.join(os.path.dirname(os.path.abspath(db_path or "build/x")),
                                                  "mqtt-outbox-%s.dat" % board)
        outputs.append(bridge(mqtt_url, board, outbox_path))
    monitor = Monitor(db_path, exit_on, out, board=board, outputs=outputs)
    own_port = stream is None
    lock = None
    if own_port:
        import serial
        lock = PortLock(port, "verdant monitor").acquire()
        try:
            stream = _open(port, baudrate)
        except (serial.SerialException, OSError) as exc:
            lock.release()
            raise VerdantError("monitor: cannot open %s (%s)" % (port, exc))
        say("monitor: watching %s (held: deploy and pull-logs wait until this monitor stops)" % port)
    deadline = None if duration is None else time.monotonic() + duration
    signals = SignalFlags()
    try:
        with signals:
            while deadline is None or time.monotonic() < deadline:
                if signals.received or (stop is not None and stop()):
                    break
                if stream is None:
                    stream = _reopen(port, baudrate, monitor, say)
                    if stream is None:
                        time.sleep(REOPEN_EVERY_S)
                    continue
                try:
                    data = stream.read(4096)
                except Exception as exc:  # serial.SerialException, OSError: the port went away
                    if not own_port:
                        raise
                    _close(stream)
                    stream = None
                    monitor.link_event("port %s gone (%s); waiting for it to come back" % (port, exc))
                    monitor.commit()
                    say("monitor: %s went away; rows kept, waiting for it to come back" % port)
                    continue
                if data:
                    if monitor.feed(data):
                        break
                elif not own_port:
                    break  # an injected stream (file, BytesIO) ended
                monitor.tick()
    except KeyboardInterrupt:
        pass
    finally:
        if own_port:
            _close(stream)
            lock.release()
        triggered = monitor.finish()
    if signals.received:
        say("monitor: stopped by %s; every row committed" % signals.received)
    monitor.stopped_by = signals.received
    return (3 if triggered else 0), monitor


def _reopen(port, baudrate, monitor, say):
    try:
        stream = _open(port, baudrate)
    except Exception:
        return None
    monitor.link_event("port %s back" % port)
    say("monitor: %s is back" % port)
    return stream


def _close(stream):
    if stream is None:
        return
    try:
        stream.close()
    except Exception:
        pass
