"""A private Mosquitto broker on 127.0.0.1 for tests and `make fleet-demo`.

Started on a free port with a generated config (no listeners elsewhere, anonymous
clients allowed, persistence in its own folder so queued QoS 1 messages and sessions
survive stop()/start()), stopped after. A grower's fleet uses its own broker instead
(docs/mqtt.md).

Example:
    with Broker() as broker:          # raises BrokerUnavailable without mosquitto
        print(broker.url)             # mqtt://127.0.0.1:41873
        broker.stop(); broker.start() # same port, same persisted state
"""
import os
import shutil
import socket
import subprocess
import tempfile
import time

from verdant_host.errors import VerdantError

CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto", "/opt/homebrew/sbin/mosquitto")


class BrokerUnavailable(VerdantError):
    """Mosquitto is not installed (make setup installs it as root: apt-get install mosquitto)."""


def find_mosquitto():
    path = os.environ.get("MOSQUITTO") or shutil.which("mosquitto")
    if path:
        return path
    for candidate in CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    raise BrokerUnavailable("mosquitto not found (install it: apt-get install mosquitto, or run make setup as root; "
                            "or set MOSQUITTO=/path/to/mosquitto)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    def __init__(self, port=None, work_dir=None, max_queued=100000):
        self.executable = find_mosquitto()
        self.port = port or free_port()
        self._own_dir = work_dir is None
        self.work_dir = work_dir or tempfile.mkdtemp(prefix="verdant-mosquitto-")
        os.makedirs(self.work_dir, exist_ok=True)
        self.config = os.path.join(self.work_dir, "mosquitto.conf")
        self.log_path = os.path.join(self.work_dir, "mosquitto.log")
        with open(self.config, "w") as f:
            f.write("listener %d 127.0.0.1\n" % self.port)
            f.write("allow_anonymous true\n")
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                # as root, mosquitto would switch to user "mosquitto", who cannot write our folder
                f.write("user root\n")
            f.write("persistence true\npersistence_location %s/\n" % self.work_dir)
            f.write("autosave_interval 0\n")  # saved when it stops
            f.write("max_queued_messages %d\nmax_inflight_messages 0\n" % max_queued)
            f.write("log_dest file %s\nlog_type error\nlog_type warning\n" % self.log_path)
        self.process = None

    @property
    def url(self):
        return "mqtt://127.0.0.1:%d" % self.port

    def start(self, timeout_s=10):
        if self.process is not None:
            return self
        self.process = subprocess.Popen([self.executable, "-c", self.config], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode(errors="replace").strip()
                self.process = None
                raise VerdantError("mosquitto exited at start on port %d: %s" % (self.port, err[-300:]))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise VerdantError("mosquitto did not listen on 127.0.0.1:%d within %g s" % (self.port, timeout_s))

    def stop(self):
        """Stop the broker (SIGTERM: it saves its persistence file first)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()

    def close(self):
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
