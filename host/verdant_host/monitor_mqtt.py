"""`verdant monitor --mqtt URL`: the serial-to-MQTT bridge for boards without Wi-Fi.

The board's own publisher (device/verdant/mqtt_publish.py, our MQTT client) runs here on
CPython, fed with the protocol lines the monitor decodes: same topics, same Home
Assistant discovery, same outbox while the broker is down (a file next to the
database). When the monitor stops, the board's availability goes to "offline".
"""
import os
import time

from verdant_host.errors import VerdantError
from verdant.mqtt import MQTTClient, parse_url
from verdant.mqtt_publish import MqttPublisher
from verdant.mqtt_topics import Topics, slug
from verdant.outbox import Outbox


class HostClock:
    def time_s(self):
        return int(time.time())


def bridge(url, board_id, outbox_path, prefix="verdant", discovery_prefix="homeassistant", keepalive_s=60,
           retry_min_s=2, retry_max_s=60):
    """An app-style output (write/idle/close) publishing a serial board's lines to `url`."""
    try:
        broker = parse_url(url)
        topics = Topics(slug(board_id), prefix, discovery_prefix, board_id)
    except ValueError as exc:
        raise VerdantError("monitor: --mqtt: %s" % exc)
    ssl = None
    if broker["ssl"]:
        import ssl
    client_id = "verdant-bridge-" + topics.board_id

    def client_factory():
        return MQTTClient(client_id, broker["host"], broker["port"], broker["user"], broker["password"],
                          keepalive_s, ssl, timeout_s=5)

    os.makedirs(os.path.dirname(os.path.abspath(outbox_path)), exist_ok=True)
    return MqttPublisher(client_factory, topics, Outbox(outbox_path), HostClock(), retry_min_s=retry_min_s,
                         retry_max_s=retry_max_s, keepalive_s=keepalive_s)
