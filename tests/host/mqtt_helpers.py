"""Test helpers: a Mosquitto fixture (skips with the reason when it is absent) and a
paho-mqtt subscriber that collects every message."""
import json
import threading
import time

import pytest

from verdant_host.broker import Broker, BrokerUnavailable


@pytest.fixture
def broker():
    try:
        b = Broker()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    b.start()
    yield b
    b.close()


class Subscriber:
    """paho-mqtt client subscribed to `topics` at QoS 1 with a persistent session, so
    messages published while it is away (broker restart) still reach it."""

    def __init__(self, broker, topics=("#",), client_id="verdant-test-subscriber"):
        import paho.mqtt.client as mqtt
        self.messages = []  # (topic, payload bytes, retain)
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.topics = topics
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self.subscribed.set()
        self.subscribed = threading.Event()
        self.client.reconnect_delay_set(0.05, 0.2)
        self.connected = threading.Event()
        self.client.connect("127.0.0.1", broker.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(10) and self.subscribed.wait(10), "subscriber did not connect and subscribe"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not flags.session_present:  # the broker kept our subscriptions otherwise; subscribing
            for topic in self.topics:   # again would replay retained messages as duplicates
                client.subscribe(topic, qos=1)
        else:
            self.subscribed.set()
        self.connected.set()

    def _on_message(self, client, userdata, msg):
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, topic):
        with self._lock:
            return [payload for t, payload, _ in self.messages if t == topic]

    def json_on(self, topic):
        return [json.loads(p) for p in self.on(topic)]

    def wait_for(self, predicate, timeout_s=20):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            time.sleep(0.05)
        return False

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()
