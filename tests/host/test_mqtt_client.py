"""Our MQTT 3.1.1 client (device/verdant/mqtt.py) against a real Mosquitto, under CPython
(the board runs the same file; test_mqtt_board.py drives it in the Unix port)."""
import socket

import pytest

from mqtt_helpers import Subscriber, broker  # noqa: F401  (fixture)
from verdant.mqtt import MQTTClient, MQTTException, parse_url, packet, _remaining_length


def test_remaining_length_encoding_matches_the_spec_examples():
    # MQTT 3.1.1 section 2.2.3: boundaries of the 1..4 byte encodings
    assert _remaining_length(0) == b"\x00"
    assert _remaining_length(127) == b"\x7f"
    assert _remaining_length(128) == b"\x80\x01"
    assert _remaining_length(16383) == b"\xff\x7f"
    assert _remaining_length(16384) == b"\x80\x80\x01"
    assert _remaining_length(2097152) == b"\x80\x80\x80\x01"
    assert packet(0xC0, b"") == b"\xc0\x00"  # PINGREQ


def test_publish_qos0_qos1_retained_ping_and_disconnect(broker):
    sub = Subscriber(broker, ["t/#"])
    client = MQTTClient("test-client", "127.0.0.1", broker.port, keepalive=30)
    assert client.connect() is False
    client.publish("t/zero", b"a", qos=0)
    client.publish(b"t/one", "b" * 300, qos=1)  # a two-byte remaining length
    client.publish("t/kept", b"c", retain=True, qos=1)
    client.ping()
    client.disconnect()
    assert sub.wait_for(lambda s: s.on("t/kept"))
    assert sub.on("t/zero") == [b"a"] and sub.on("t/one") == [b"b" * 300]
    late = Subscriber(broker, ["t/kept"], client_id="late")
    assert late.wait_for(lambda s: s.on("t/kept") == [b"c"])  # the broker kept it
    assert not sub.on("t/will")
    sub.close()
    late.close()


def test_last_will_is_published_when_the_link_dies_but_not_on_disconnect(broker):
    sub = Subscriber(broker, ["w/#"])
    gone = MQTTClient("dies", "127.0.0.1", broker.port, keepalive=30)
    gone.set_last_will("w/dies", b"offline", retain=True, qos=1)
    gone.connect()
    gone.sock.shutdown(socket.SHUT_RDWR)  # power cut: no DISCONNECT
    gone.sock.close()
    polite = MQTTClient("polite", "127.0.0.1", broker.port)
    polite.set_last_will("w/polite", b"offline")
    polite.connect()
    polite.disconnect()
    assert sub.wait_for(lambda s: s.on("w/dies") == [b"offline"])
    assert sub.on("w/polite") == []
    sub.close()


def test_refused_connection_and_closed_port_raise(broker):
    client = MQTTClient("x" * 70000, "127.0.0.1", broker.port)
    with pytest.raises(MQTTException, match="longer than MQTT allows"):
        client.connect()
    assert client.sock is None
    port = broker.port
    broker.stop()
    with pytest.raises(OSError):
        MQTTClient("y", "127.0.0.1", port, timeout_s=2).connect()


def test_url_parsing_never_quotes_the_password():
    assert parse_url("mqtt://u:p%40ss@broker.lan:1884") == {"host": "broker.lan", "port": 1884, "user": "u",
                                                           "password": "p%40ss", "ssl": False}
    assert parse_url("mqtts://h")["port"] == 8883
    for bad in ("http://u:hunter2@h", "mqtt://u:hunter2@h:x", "mqtt://u:hunter2@:1883", "mqtt://u:hunter2@h:0"):
        with pytest.raises(ValueError) as caught:
            parse_url(bad)
        assert "hunter2" not in str(caught.value)


def test_the_broker_name_is_resolved_once_and_again_after_failed_connects(broker, monkeypatch):
    from verdant import mqtt
    lookups = []
    real = socket.getaddrinfo

    def counted(host, *args):
        lookups.append(host)
        return real(host, *args)
    monkeypatch.setattr(socket, "getaddrinfo", counted)
    monkeypatch.setattr(mqtt, "_addresses", {})
    for _ in range(3):  # reconnects reuse the address: no DNS lookup (unbounded on a board) each time
        client = MQTTClient("dns", "127.0.0.1", broker.port, timeout_s=2)
        client.connect()
        client.disconnect()
    assert lookups == ["127.0.0.1"]
    port = broker.port
    broker.stop()
    for _ in range(mqtt.RESOLVE_AGAIN_AFTER + 1):  # the broker gone: after a few failures, look it up again
        with pytest.raises(OSError):
            MQTTClient("dns", "127.0.0.1", port, timeout_s=2).connect()
    assert lookups == ["127.0.0.1", "127.0.0.1"]
