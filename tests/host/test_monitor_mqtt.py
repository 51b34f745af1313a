"""`verdant monitor --mqtt`: a serial board's lines reach the broker with the same topics
and Home Assistant discovery as a Wi-Fi board's, and survive a broker outage."""
import io
import json
import time

from mqtt_helpers import Subscriber, broker  # noqa: F401  (fixture)
from verdant.protocol import Encoder, decode
from verdant_host.monitor import Monitor, run_monitor
from verdant_host.monitor_mqtt import bridge

T0 = 1768867200


def lines(enc, n, start=0):
    out = []
    for i in range(start, start + n):
        out.append(enc.encode(T0 + 300 * i, "reading", {"air_temp_c": 5.0 - i, "rh_pct": 80.0}))
    return out


def frost(enc, t, event="raise"):
    return enc.encode(t, "alert", {"type": "frost_risk", "severity": "critical", "event": event,
                                   "reason": "air_temp_c 1.6 below 2 for 600 s", "source": "rule"})


def test_serial_lines_are_bridged_with_discovery_and_availability(broker, tmp_path):
    sub = Subscriber(broker)
    enc = Encoder()
    stream = io.BytesIO(b"boot text\r\n" + b"".join(lines(enc, 3)) + frost(enc, T0 + 900) + b"".join(lines(enc, 2, 4)))
    code, monitor = run_monitor("/dev/ttyUSB7", str(tmp_path / "m.sqlite"), out=io.StringIO(), stream=stream,
                                board="north-bench", mqtt_url=broker.url)
    assert code == 0
    assert sub.wait_for(lambda s: len(s.on("verdant/north-bench/reading")) == 5
                        and s.on("verdant/north-bench/availability")[-1:] == [b"offline"])
    alert = json.loads(sub.on("verdant/north-bench/alert")[0])
    assert alert["p"]["type"] == "frost_risk" and decode(sub.on("verdant/north-bench/alert")[0])[1] is None
    assert json.loads(sub.on("verdant/north-bench/problem/frost_risk")[-1])["state"] == "ON"
    rh = json.loads(sub.on("homeassistant/sensor/north-bench/rh_pct/config")[0])
    assert rh["device_class"] == "humidity" and rh["state_topic"] == "verdant/north-bench/reading"
    problem = json.loads(sub.on("homeassistant/binary_sensor/north-bench/alert_frost_risk/config")[0])
    assert problem["device_class"] == "problem" and problem["device"]["identifiers"] == ["verdant_north-bench"]
    assert sub.on("verdant/north-bench/availability")[0] == b"online"
    assert not sub.on("verdant/north-bench/status")  # "boot text" is not a protocol line
    sub.close()


def test_bridge_queues_through_a_broker_outage(broker, tmp_path):
    sub = Subscriber(broker)
    out = bridge(broker.url, "south", str(tmp_path / "outbox.dat"), retry_min_s=1, retry_max_s=1)
    monitor = Monitor(None, outputs=[out], board="south")
    enc = Encoder()
    sent = lines(enc, 3)
    monitor.feed(b"".join(sent))
    broker.stop()
    more = lines(enc, 4, 3) + [frost(enc, T0 + 3000)]
    monitor.feed(b"".join(more))  # the broker is away: into the outbox
    assert out.outbox.pending()
    broker.start()
    deadline = time.monotonic() + 15
    while out.outbox.pending() and time.monotonic() < deadline:
        monitor.tick()
        time.sleep(0.1)
    def seqs(s):  # QoS 1 is at least once: a message the broker was delivering when stopped comes again
        return sorted(set(decode(p)[0]["seq"] for p in s.on("verdant/south/reading")))
    assert sub.wait_for(lambda s: seqs(s) == list(range(7)) and s.on("verdant/south/alert"))
    monitor.finish()
    sub.close()


def test_fleet_watcher_drops_qos1_repeats_without_a_false_restart(broker, tmp_path):
    from verdant.mqtt import MQTTClient
    from verdant_host.fleet import FleetWatcher
    watcher = FleetWatcher(broker.url, str(tmp_path / "f.sqlite"), out=None).start()
    client = MQTTClient("rep", "127.0.0.1", broker.port)
    client.connect()
    enc = Encoder()
    sent = lines(enc, 4)
    for line in sent + [sent[2]]:  # the third line delivered again, as after a broker restart
        client.publish("verdant/rep/reading", line.rstrip(b"\n"), qos=1)
    client.disconnect()
    deadline = time.monotonic() + 10
    while watcher.received + watcher.duplicates < 5 and time.monotonic() < deadline:
        watcher.pump()
    stats = watcher.monitor.stats
    watcher.close()
    assert watcher.received == 4 and watcher.duplicates == 1
    assert stats["reboots"] == 0 and stats["lost"] == 0
