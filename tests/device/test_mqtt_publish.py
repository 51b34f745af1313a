# The board's MQTT publisher in the Unix port with a fake client: order kept through
# outages, back-off in board time, radio off between samples, discovery of model labels,
# secrets never in errors. The real broker is in tests/host/test_mqtt_board.py.
import os
import time
from verdant.mqtt_publish import MqttPublisher, publisher_from_secrets
from verdant.mqtt_topics import Topics
from verdant.outbox import Outbox
from verdant.protocol import Encoder, decode
from mpytest import raises

DIR = "/tmp/verdant-publish-test-%d" % time.ticks_us()
try:
    os.mkdir(DIR)
except OSError:
    pass


class Clock:
    def __init__(self):
        self.t = 1768867200

    def time_s(self):
        return self.t


class Broker:
    """What a broker received, and a switch to make it unreachable."""

    def __init__(self):
        self.up = True
        self.got = []
        self.connects = 0


class FakeClient:
    def __init__(self, broker):
        self.broker = broker
        self.open = False

    def set_last_will(self, topic, msg, retain=False, qos=0):
        self.will = (topic, msg, retain, qos)

    def connect(self):
        if not self.broker.up:
            raise OSError(111)  # ECONNREFUSED
        self.broker.connects += 1
        self.open = True

    def publish(self, topic, msg, retain=False, qos=0):
        if not self.broker.up or not self.open:
            self.open = False
            raise OSError(104)  # ECONNRESET
        self.broker.got.append((topic, bytes(msg), retain))

    def ping(self):
        self.publish("$ping", b"")

    def disconnect(self):
        self.open = False

    def _close(self):
        self.open = False


class Radio:
    def __init__(self):
        self.ups = 0
        self.downs = 0
        self.fed_while_up = 0

    def up(self, feed):
        self.ups += 1
        feed()  # a real radio feeds while it waits for the access point
        self.fed_while_up += 1

    def down(self):
        self.downs += 1


def _publisher(name, broker, clock, radio=None, radio_off=False, feed=None):
    path = DIR + "/" + name
    for p in (path, path + ".pos"):
        try:
            os.remove(p)
        except OSError:
            pass
    return MqttPublisher(lambda: FakeClient(broker), Topics("gh-1"), Outbox(path), clock, radio, radio_off,
                         retry_min_s=30, retry_max_s=120, feed=feed)


def _seqs(broker, kind="reading"):
    return [decode(msg)[0]["seq"] for topic, msg, _ in broker.got if topic == "verdant/gh-1/" + kind]


def test_order_is_kept_through_an_outage_with_back_off_in_board_time():
    broker, clock = Broker(), Clock()
    pub = _publisher("a", broker, clock)
    enc = Encoder()
    for i in range(3):
        pub.write(enc.encode(clock.t, "reading", {"air_temp_c": 10.0 + i}))
    broker.up = False
    for i in range(3, 8):
        clock.t += 10
        pub.write(enc.encode(clock.t, "reading", {"air_temp_c": 10.0 + i}))
    assert pub.outbox.pending() and broker.connects == 1
    broker.up = True
    clock.t += 5  # inside the 30 s back-off: no attempt yet
    pub.idle()
    assert broker.connects == 1
    clock.t += 60
    pub.idle()
    assert broker.connects == 2 and not pub.outbox.pending()
    assert _seqs(broker) == list(range(8))
    assert pub.published == 8


def test_radio_is_off_between_samples_when_asked():
    broker, clock, radio = Broker(), Clock(), Radio()
    feeds = []
    pub = _publisher("b", broker, clock, radio, radio_off=True, feed=lambda: feeds.append(clock.t))
    enc = Encoder()
    pub.write(enc.encode(clock.t, "reading", {"air_temp_c": 3.0}))
    pub.idle()
    assert radio.ups == 1 and radio.downs == 1 and pub.client is None
    pub.write(enc.encode(clock.t + 300, "reading", {"air_temp_c": 3.0}))
    assert radio.ups == 2 and broker.connects == 2 and _seqs(broker) == [0, 1]
    assert radio.fed_while_up == 2 and len(feeds) >= 6  # the watchdog is fed around every blocking step
    # a clean DISCONNECT, no will: Home Assistant keeps the board available
    assert [m for t, m, _ in broker.got if t == "verdant/gh-1/availability"] == [b"online", b"online"]


def test_model_labels_and_new_alert_types_get_discovery_and_state():
    broker, clock = Broker(), Clock()
    pub = _publisher("c", broker, clock)
    enc = Encoder()
    pub.write(enc.encode(clock.t, "status", {"model": "on", "labels": ["normal", "heating_failure"]}))
    pub.write(enc.encode(clock.t, "alert", {"type": "heating_failure", "event": "raise", "severity": "warning",
                                           "reason": "model p=0.9"}))
    pub.write(enc.encode(clock.t, "alert", {"type": "brand_new", "event": "raise", "severity": "info",
                                           "reason": "r"}))
    topics = [t for t, _, _ in broker.got]
    assert "homeassistant/binary_sensor/gh-1/alert_brand_new/config" in topics
    assert "homeassistant/binary_sensor/gh-1/alert_normal/config" not in topics
    clock.t += 1000
    broker.up = False
    pub.write(enc.encode(clock.t, "reading", {"air_temp_c": 1.0}))  # lost link
    broker.up = True
    broker.got = []
    clock.t += 1000
    pub.idle()  # reconnect: discovery again and the current problem states (retained)
    states = dict((t, m) for t, m, retain in broker.got if "/problem/" in t and retain)
    assert b'"state":"ON"' in states["verdant/gh-1/problem/heating_failure"]
    assert states["verdant/gh-1/problem/frost_risk"] == b'{"state":"OFF"}'
    assert "homeassistant/binary_sensor/gh-1/alert_heating_failure/config" in [t for t, _, _ in broker.got]


def test_secrets_never_show_in_errors():
    class Hal:
        clock = Clock()
    for bad in ({"mqtt": {"url": "http://me:hunter2@x"}}, {"mqtt": {"url": "mqtt://me:hunter2@x:99999"}},
                {"mqtt": {"url": "mqtt://me:hunter2@x", "pasword": "typo"}}):
        with raises(ValueError) as caught:
            publisher_from_secrets(bad, Hal(), {"name": "b"}, storage=DIR + "/")
        assert "hunter2" not in str(caught.value), str(caught.value)


def test_socket_timeouts_stay_inside_the_watchdog_period():
    class Watchdog:
        fed = 0

        def feed(self):
            Watchdog.fed += 1

    class Hal:
        clock = Clock()
        watchdog = Watchdog()
    secrets = {"mqtt": {"url": "mqtt://127.0.0.1:1", "board_id": "w"}}
    pub = publisher_from_secrets(secrets, Hal(), {"name": "pico_w", "watchdog_timeout_ms": 8000},
                                 storage=DIR + "/w-")
    assert pub.client_factory().timeout_s * 2 < 8  # connect + CONNACK both fit in one period
    pub.write(Encoder().encode(Hal.clock.t, "reading", {"air_temp_c": 1.0}))  # port 1: refused
    assert Watchdog.fed >= 1 and pub.outbox.pending()
