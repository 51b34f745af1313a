"""`verdant fleet-watch`: one monitor for a whole fleet of boards on an MQTT broker.

Subscribes (paho-mqtt, QoS 1, persistent session) to <prefix>/+/reading|alert|status|error,
checks every line (protocol CRC, sequence numbers per board) and stores it through the
monitor's store with the board id from the topic, so every row has its board and session.
paho's network thread only queues messages; the store is written from the caller's thread.
QoS 1 is "at least once": a line the broker was delivering when it stopped comes again
after its restart; such repeats (same board, same line bytes, among the last 2000) are
counted in .duplicates and not stored twice, nor mistaken for a board restart.

Example:
    with FleetWatcher("mqtt://127.0.0.1:1883", "build/fleet.sqlite") as watcher:
        watcher.run(duration=60)
"""
import queue
import sys
import time

from verdant.mqtt import parse_url
from verdant.mqtt_topics import KIND_TOPICS
from verdant_host.errors import VerdantError
from verdant_host.monitor import Monitor

RECENT = 2000


class FleetWatcher:
    def __init__(self, url, db_path, prefix="verdant", out=sys.stdout, client_id="verdant-fleet-watch",
                 show_readings=False):
        try:
            import paho.mqtt.client as mqtt
        except ImportError:
            raise VerdantError("fleet-watch needs paho-mqtt (pip install paho-mqtt)")
        try:
            self.broker = parse_url(url)
        except ValueError as exc:
            raise VerdantError("fleet-watch: %s" % exc)
        self.prefix = prefix
        self.inbox = queue.Queue()
        self.monitor = Monitor(db_path, out=out, show_board=True,
                               reading_every_s=0 if show_readings else 10 ** 12)
        self.received = 0
        self.duplicates = 0
        self._recent = {}  # board -> (set, list) of the last RECENT line payloads
        self._subscribed = False
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        if self.broker["user"] is not None:
            self.client.username_pw_set(self.broker["user"], self.broker["password"])
        if self.broker["ssl"]:
            self.client.tls_set()
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.reconnect_delay_set(0.1, 5)

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not flags.session_present:
            client.subscribe([("%s/+/%s" % (self.prefix, kind), 1) for kind in KIND_TOPICS])
        else:
            self._subscribed = True

    def _on_subscribe(self, *args):
        self._subscribed = True

    def _on_message(self, client, userdata, msg):
        parts = msg.topic.split("/")
        if len(parts) >= 3 and parts[-1] in KIND_TOPICS and not msg.retain:
            self.inbox.put((parts[-2], bytes(msg.payload)))

    def start(self, timeout_s=10):
        try:
            self.client.connect(self.broker["host"], self.broker["port"], keepalive=30)
        except OSError as exc:
            raise VerdantError("fleet-watch: cannot reach the broker (%s)" % type(exc).__name__)
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self._subscribed:
            if time.monotonic() > deadline:
                raise VerdantError("fleet-watch: not subscribed within %g s" % timeout_s)
            time.sleep(0.02)
        return self

    def pump(self, wait_s=0.1):
        """Store what has arrived; returns how many lines."""
        n = 0
        try:
            board, payload = self.inbox.get(timeout=wait_s)
            while True:
                if self._repeat(board, payload):
                    self.duplicates += 1
                else:
                    self.monitor.feed(payload + b"\n", board)
                    n += 1
                board, payload = self.inbox.get_nowait()
        except queue.Empty:
            pass
        self.received += n
        self.monitor.tick()
        return n

    def _repeat(self, board, payload):
        seen, order = self._recent.setdefault(board, (set(), []))
        if payload in seen:
            return True
        seen.add(payload)
        order.append(payload)
        if len(order) > RECENT:
            seen.discard(order.pop(0))
        return False

    def run(self, duration=None, stop=None):
        deadline = None if duration is None else time.monotonic() + duration
        while (deadline is None or time.monotonic() < deadline) and not (stop and stop()):
            self.pump()

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
        self.pump(0)
        return self.monitor.finish()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()
