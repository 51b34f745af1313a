"""The board's MQTT output end to end: the firmware app in the MicroPython Unix port
(simboard: the virtual board's clock and simulated sensors) publishes through
verdant.mqtt_publish to a real Mosquitto; a paho-mqtt subscriber checks what arrives."""
import json
import os
import time

import pytest

from mqtt_helpers import Subscriber, broker  # noqa: F401  (fixture)
from verdant.protocol import decode
from verdant_host import paths, vboard_scenario
from verdant_host.simboard import SimBoard

MICROPYTHON = paths.micropython()
FAULT_AT = 22 * 3600  # the demo scenario's heating failure starts at 22:00 on the first night


@pytest.fixture(scope="module")
def truth_csv(tmp_path_factory):
    if not os.path.exists(MICROPYTHON):
        pytest.skip("micropython Unix port not found at %s (set MICROPYTHON)" % MICROPYTHON)
    path = str(tmp_path_factory.mktemp("truth") / "truth.csv")
    start = vboard_scenario.write_truth_csv(path, vboard_scenario.demo_scenario(days=1.5))
    return path, start


def board_lines(stdout):
    messages = []
    for line in stdout.split(b"\n"):
        message, why = decode(line)
        if message is not None:
            messages.append(message)
    return messages


def stats(err):
    """The simboard's closing publisher figures (published, queued, dropped, failures, connects)."""
    line = [l for l in err.splitlines() if l.startswith("simboard: ")][-1]
    return {k: int(v) for k, v in (part.split("=") for part in line.split()[1:])}


def received(sub, board_id):
    """Protocol messages that arrived on the board's kind topics, by seq."""
    got = {}
    for kind in ("reading", "alert", "status", "error"):
        for payload in sub.on("verdant/%s/%s" % (board_id, kind)):
            message, why = decode(payload)
            assert why is None, (why, payload)
            assert message["k"] == kind
            got.setdefault(message["seq"], []).append(message)
    return got


def test_heating_failure_reaches_a_subscriber_with_discovery(broker, truth_csv, tmp_path):
    path, start = truth_csv
    sub = Subscriber(broker)
    board = SimBoard(tmp_path / "b1", path, board_id="gh-north", broker_url=broker.url, speed=6000,
                     seconds=5 * 3600, start_s=start + FAULT_AT - 4 * 3600)  # the model needs ~3 h of rates
    out, err = board.start().wait(timeout=60)
    sent = board_lines(out)
    assert sub.wait_for(lambda s: len(received(s, "gh-north")) == len(sent)), err
    # the alert message, as the board sent it on its serial line
    alerts = [json.loads(p) for p in sub.on("verdant/gh-north/alert")]
    heating = [a for a in alerts if a["p"]["type"] == "heating_failure" and a["p"]["event"] == "raise"]
    assert heating and heating[0]["p"]["severity"] == "warning" and heating[0]["p"]["reason"]
    # its Home Assistant problem sensor: state ON, severity and reason as attributes, retained
    state = json.loads(sub.on("verdant/gh-north/problem/heating_failure")[-1])
    assert state["state"] == "ON" and state["severity"] == "warning" and state["reason"] == heating[0]["p"]["reason"]
    config = json.loads(sub.on("homeassistant/binary_sensor/gh-north/alert_heating_failure/config")[-1])
    assert config["device_class"] == "problem"
    assert config["state_topic"] == config["json_attributes_topic"] == "verdant/gh-north/problem/heating_failure"
    assert config["value_template"] == "{{ value_json.state }}" and config["payload_on"] == "ON"
    # one sensor per quantity, all on one device, availability through the last will
    temp = json.loads(sub.on("homeassistant/sensor/gh-north/air_temp_c/config")[-1])
    assert temp["device_class"] == "temperature" and temp["unit_of_measurement"] == "\u00b0C"
    assert temp["state_topic"] == "verdant/gh-north/reading"
    assert temp["value_template"] == "{{ value_json.p.air_temp_c }}"
    assert 3 * 900 <= temp["expire_after"] <= 7200  # stale after a few missed 15-minute readings
    reading = [m for m in sent if m["k"] == "reading"][-1]
    sensors = [t for t, _, _ in sub.messages if t.startswith("homeassistant/sensor/gh-north/")]
    assert sorted(t.split("/")[3] for t in set(sensors)) == sorted(reading["p"])
    frost = json.loads(sub.on("homeassistant/binary_sensor/gh-north/alert_frost_risk/config")[-1])
    for c in (temp, config, frost):
        assert c["device"]["identifiers"] == ["verdant_gh-north"]
        assert c["availability_topic"] == "verdant/gh-north/availability"
        assert c["unique_id"].startswith("verdant_gh-north_")
    assert json.loads(sub.on("verdant/gh-north/problem/frost_risk")[0]) == {"state": "OFF"}
    assert sub.on("verdant/gh-north/availability")[0] == b"online"
    assert sub.wait_for(lambda s: s.on("verdant/gh-north/availability")[-1] == b"offline")  # process gone: will
    assert stats(err) == {"published": len(sent), "queued": 0, "dropped": 0, "failures": 0, "connects": 1}
    sub.close()


def test_broker_down_ten_simulated_minutes_loses_nothing(broker, truth_csv, tmp_path):
    path, start = truth_csv
    sub = Subscriber(broker)
    speed = 1200.0  # 10 simulated minutes = 0.5 s
    board = SimBoard(tmp_path / "b2", path, board_id="b2", broker_url=broker.url, speed=speed,
                     seconds=60 * 60, start_s=start + FAULT_AT - 3600, mqtt_options={"retry_max_s": 60})
    board.start()
    time.sleep(0.8)  # the board is running and publishing
    broker.stop()
    time.sleep(600 / speed)
    broker.start()
    out, err = board.wait(timeout=60)
    sent = board_lines(out)
    assert sub.wait_for(lambda s: len(received(s, "b2")) == len(sent), timeout_s=20), err
    got = received(sub, "b2")
    assert sorted(got) == [m["seq"] for m in sent]
    assert [got[m["seq"]][0] for m in sent] == sent  # the same lines, byte for byte after decoding
    figures = stats(err)
    assert figures["failures"] >= 1 and figures["connects"] >= 2  # the outage did happen
    assert figures["published"] == len(sent) and figures["queued"] == figures["dropped"] == 0
    sub.close()


def test_lines_queued_before_a_reboot_are_sent_after_it(broker, truth_csv, tmp_path):
    path, start = truth_csv
    url = broker.url
    broker.stop()
    first = SimBoard(tmp_path / "b3", path, board_id="b3", broker_url=url, speed=20000, seconds=3 * 3600,
                     start_s=start + 3600)
    out1, err1 = first.start().wait(timeout=60)
    assert stats(err1)["published"] == 0 and stats(err1)["queued"] > 0
    broker.start()
    sub = Subscriber(broker)
    second = SimBoard(tmp_path / "b3", path, board_id="b3", broker_url=url, speed=20000, seconds=1800,
                      start_s=start + 4 * 3600, fresh=False)
    out2, err2 = second.start().wait(timeout=60)
    before, after = board_lines(out1), board_lines(out2)
    assert sub.wait_for(lambda s: len(s.on("verdant/b3/reading")) + len(s.on("verdant/b3/status"))
                        + len(s.on("verdant/b3/alert")) + len(s.on("verdant/b3/error")) == len(before) + len(after))
    order = [decode(p)[0] for t, p, _ in sub.messages if t.split("/")[-1] in ("reading", "status", "alert", "error")]
    assert order == before + after  # the first boot's lines first, in order
    sub.close()
