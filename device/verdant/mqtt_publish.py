"""The board's MQTT output: every protocol line goes to the broker, with Home Assistant
discovery, through the outbox while Wi-Fi or the broker is down.

An app output (verdant.app: write(line) per line, idle() before each sleep):
  write(line)  decode the line, track alert states, then publish it at once when the
               link is up and nothing is queued; otherwise queue it in the outbox and
               try to (re)connect, no more often than the back-off allows (board time)
  idle()       send what is queued; then, when radio_off is set, disconnect and power
               the radio down until the next line (a real board wakes every sample)
On connect: availability "online" (last will "offline"), discovery for every quantity
and alert type known so far, the current state of every alert type, then the queue.
Topics and payloads: verdant.mqtt_topics. Secrets never appear in a line or an error.
"""
from verdant.mqtt import MQTTClient, parse_url
from verdant.mqtt_topics import Topics, ONLINE, OFFLINE, problem_state, encode, slug, check_id
from verdant.outbox import Outbox
from verdant.protocol import decode

try:
    from verdant.rules import DEFAULT_RULES
except ImportError:  # pragma: no cover
    DEFAULT_RULES = {}

BATCH = 20
ALWAYS_KNOWN_TYPES = tuple(sorted(DEFAULT_RULES)) + ("sensor_failure",)


class MqttPublisher:
    """client_factory() -> a new MQTTClient; clock.time_s() -> board time (back-off);
    radio: object with up()/down() or None (the Unix port uses the host's network)."""

    def __init__(self, client_factory, topics, outbox, clock, radio=None, radio_off=False,
                 retry_min_s=10, retry_max_s=600, keepalive_s=300, feed=None):
        self.client_factory = client_factory
        self.topics = topics
        self.outbox = outbox
        self.clock = clock
        self.radio = radio
        self.radio_off = radio_off and radio is not None
        self.retry_min_s = retry_min_s
        self.retry_max_s = retry_max_s
        self.keepalive_s = keepalive_s
        # feeds the watchdog between blocking network steps (each bounded by the client's
        # timeout, which publisher_from_secrets keeps under half the watchdog period)
        self.feed = feed or _nothing
        self._last_sent_t = None  # board time of the last packet, for keep-alive pings
        self.client = None
        self._retry_at = None
        self._retry_wait = retry_min_s
        self.quantities = []
        self.alert_types = list(ALWAYS_KNOWN_TYPES)
        self.alert_state = {}   # type -> last problem_state dict
        self._announced = set()
        self.published = 0      # protocol lines the broker acknowledged
        self.connects = 0
        self.failures = 0
        self.last_error = None  # exception class name only: messages may hold addresses

    # ---- app output ----
    def write(self, line):
        message, why = decode(line)
        if message is None:
            return  # not a protocol line (nothing the app sends): nothing to publish
        self._learn(message)
        if self.client is not None and not self.outbox.pending():
            try:
                self._publish_message(message, line)
                self.published += 1
                return
            except Exception as exc:
                self._lost(exc)
        self.outbox.append(line)
        self.flush()

    def idle(self):
        self.flush()
        if self.radio_off and self.client is not None:
            self._close(clean=True)
        if self.radio_off and self.radio is not None:
            self.radio.down()
        if self.client is not None and self.clock.time_s() - self._last_sent_t >= self.keepalive_s // 2:
            try:  # nothing sent for a while: a ping keeps the broker from declaring us gone
                self.client.ping()
                self._last_sent_t = self.clock.time_s()
            except Exception as exc:
                self._lost(exc)

    def close(self, offline=True):
        """Send what is queued, then leave: "offline" first when this is the last word
        (the host bridge stopping; a board never calls this)."""
        self.flush()
        if self.client is not None and offline:
            try:
                self.client.publish(self.topics.availability, OFFLINE, retain=True, qos=1)
            except Exception:
                pass
        self._close(clean=True)

    # ---- queue ----
    def flush(self):
        """Send queued lines in order; False when the link is not up."""
        if not self._connected():
            return False
        while self.outbox.pending():
            lines = self.outbox.peek(BATCH)
            if not lines:
                break
            done = 0
            try:
                for line in lines:
                    self.feed()
                    message, why = decode(line)
                    if message is not None:
                        self._publish_message(message, line)
                        self.published += 1
                    done += len(line)
            except Exception as exc:
                self.outbox.advance(done)
                self._lost(exc)
                return False
            self.outbox.advance(done)
        return True

    # ---- connection ----
    def _connected(self):
        if self.client is not None:
            return True
        now = self.clock.time_s()
        if self._retry_at is not None and now < self._retry_at:
            return False
        try:
            self.feed()
            if self.radio is not None:
                self.radio.up(self.feed)
            self.feed()
            client = self.client_factory()
            client.set_last_will(self.topics.availability, OFFLINE, retain=True, qos=1)
            client.connect()
            self.feed()
            self.client = client
            self._last_sent_t = self.clock.time_s()
            self.connects += 1
            self._announced = set()
            client.publish(self.topics.availability, ONLINE, retain=True, qos=1)
            for quantity in self.quantities:
                self._announce_quantity(quantity)
            for alert_type in self.alert_types:
                self._announce_type(alert_type)
                state = self.alert_state.get(alert_type) or {"state": "OFF"}
                client.publish(self.topics.problem(alert_type), encode(state), retain=True, qos=1)
        except Exception as exc:
            self._lost(exc)
            return False
        self._retry_wait = self.retry_min_s
        self._retry_at = None
        return True

    def _lost(self, exc):
        self.failures += 1
        self.last_error = type(exc).__name__
        self._close(clean=False)
        self._retry_at = self.clock.time_s() + self._retry_wait
        self._retry_wait = min(self.retry_max_s, self._retry_wait * 2)

    def _close(self, clean):
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if clean:
                client.disconnect()
            else:
                client._close()
        except Exception:
            pass

    # ---- messages ----
    def _learn(self, message):
        """Note new quantities and alert types (discovery) and alert states (problem topics)."""
        p = message["p"]
        if message["k"] == "reading":
            for quantity in sorted(p):
                if quantity not in self.quantities and _safe(quantity):
                    self.quantities.append(quantity)
        elif message["k"] == "alert" and _safe(p.get("type")):
            if p["type"] not in self.alert_types:
                self.alert_types.append(p["type"])
        elif message["k"] == "status" and isinstance(p.get("labels"), list):
            for label in p["labels"]:
                if _safe(label) and label not in self.alert_types and label not in ("normal", "none", "ok"):
                    self.alert_types.append(label)

    def _publish_message(self, message, line):
        client, topics, p = self.client, self.topics, message["p"]
        self._last_sent_t = self.clock.time_s()
        text = line.rstrip(b"\r\n")
        if message["k"] == "reading":
            for quantity in sorted(p):
                if quantity in self.quantities and quantity not in self._announced:
                    self._announce_quantity(quantity)
            client.publish(topics.kind("reading"), text, retain=True, qos=1)
        elif message["k"] == "alert":
            client.publish(topics.kind("alert"), text, qos=1)
            alert_type = p.get("type")
            if alert_type in self.alert_types:
                if alert_type not in self._announced:
                    self._announce_type(alert_type)
                state = problem_state(p, message["t"])
                client.publish(topics.problem(alert_type), encode(state), retain=True, qos=1)
                self.alert_state[alert_type] = state
        else:
            client.publish(topics.kind(message["k"]), text, qos=1)

    def _announce_quantity(self, quantity):
        topic, config = self.topics.sensor_config(quantity)
        self.client.publish(topic, encode(config), retain=True, qos=1)
        self._announced.add(quantity)

    def _announce_type(self, alert_type):
        topic, config = self.topics.problem_config(alert_type)
        self.client.publish(topic, encode(config), retain=True, qos=1)
        self._announced.add(alert_type)


def _nothing():
    pass


def _safe(name):
    try:
        check_id(name, "name")
        return True
    except ValueError:
        return False


def board_id_for(mqtt, board):
    """secrets' board_id, else the chip's unique id, else a slug of the board name."""
    if mqtt.get("board_id"):
        return check_id(mqtt["board_id"])
    try:
        import machine
        uid = machine.unique_id()
        return "verdant-" + "".join(["%02x" % b for b in uid])
    except (ImportError, AttributeError):
        return slug(board.get("name", "board"))


KNOWN_KEYS = ("url", "board_id", "prefix", "discovery_prefix", "keepalive_s", "outbox_bytes", "radio_off",
              "retry_min_s", "retry_max_s")


def settings_from_secrets(secrets, board):
    """Checked MQTT settings from secrets.json's dict (also used by `verdant secrets`
    before the file goes onto a board). ValueError never quotes the URL or password."""
    mqtt = secrets.get("mqtt") if isinstance(secrets, dict) else None
    if not isinstance(mqtt, dict) or "url" not in mqtt:
        raise ValueError("secrets.json: \"mqtt\" must be an object with a \"url\"")
    for key in mqtt:
        if key not in KNOWN_KEYS:
            raise ValueError("secrets.json: unknown mqtt key %r (known: %s)" % (key, ", ".join(KNOWN_KEYS)))
    wifi = secrets.get("wifi")
    if wifi is not None and (not isinstance(wifi, dict) or not wifi.get("ssid")):
        raise ValueError("secrets.json: \"wifi\" must be an object with \"ssid\" and \"password\"")
    url = parse_url(mqtt["url"])
    settings = {"url": url, "board_id": board_id_for(mqtt, board),
                "prefix": mqtt.get("prefix", "verdant"), "discovery_prefix": mqtt.get("discovery_prefix", "homeassistant")}
    for key, default in (("keepalive_s", 300), ("outbox_bytes", 65536), ("retry_min_s", 10), ("retry_max_s", 600)):
        try:
            settings[key] = int(mqtt.get(key, default))
        except (TypeError, ValueError):
            raise ValueError("secrets.json: mqtt %s must be a whole number" % key)
    settings["radio_off"] = bool(mqtt.get("radio_off", True))
    Topics(settings["board_id"], settings["prefix"], settings["discovery_prefix"])  # checks the names
    return settings


def publisher_from_secrets(secrets, hal, board, storage=""):
    """The publisher secrets.json describes: {"mqtt": {"url", ...}, "wifi": {"ssid", "password"}}.

    mqtt keys: url (required), board_id, prefix ("verdant"), discovery_prefix
    ("homeassistant"), keepalive_s (300), outbox_bytes (65536), radio_off (true when
    there is Wi-Fi), retry_min_s (10), retry_max_s (600)."""
    settings = settings_from_secrets(secrets, board)
    url, board_id, keepalive = settings["url"], settings["board_id"], settings["keepalive_s"]
    topics = Topics(board_id, settings["prefix"], settings["discovery_prefix"], board.get("name"))
    ssl = None
    if url["ssl"]:
        import ssl

    watchdog = getattr(hal, "watchdog", None)
    # every blocking socket step ends well inside the watchdog period (8 s on a Pico W)
    timeout_s = max(1, min(10, int(board.get("watchdog_timeout_ms") or 20000) // 2500))

    def client_factory():
        return MQTTClient(board_id, url["host"], url["port"], url["user"], url["password"], keepalive, ssl,
                          timeout_s=timeout_s)

    radio = None
    if secrets.get("wifi"):
        from verdant.wifi import make_radio
        radio = make_radio(secrets["wifi"])
    outbox = Outbox(storage + "outbox.dat", settings["outbox_bytes"])
    return MqttPublisher(client_factory, topics, outbox, hal.clock, radio, radio_off=settings["radio_off"],
                         retry_min_s=settings["retry_min_s"], retry_max_s=settings["retry_max_s"],
                         keepalive_s=keepalive, feed=watchdog.feed if watchdog is not None else None)
