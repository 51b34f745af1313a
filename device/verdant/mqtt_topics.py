"""MQTT topics and Home Assistant discovery messages for one board.

Shared by the board's publisher (verdant.mqtt_publish) and the host's serial-to-MQTT
bridge (`verdant monitor --mqtt`), so both publish exactly the same messages.

Topics, base = <prefix>/<board_id> (prefix "verdant" unless configured):
  base/availability        "online" / "offline" (retained; "offline" is the last will)
  base/reading|alert|status|error
                           the protocol line itself (JSON with v, seq, t, k, p, crc), QoS 1;
                           readings are retained so a new subscriber sees the latest values
  base/problem/<type>      {"state": "ON"|"OFF", "severity", "reason", "since"} (retained):
                           the state of one alert type, for Home Assistant
Discovery (retained), following Home Assistant's MQTT discovery scheme
<discovery_prefix>/<component>/<node_id>/<object_id>/config:
  homeassistant/sensor/<board_id>/<quantity>/config          one sensor per quantity
  homeassistant/binary_sensor/<board_id>/<type>/config       one problem sensor per alert type
All entities share one device (identifiers [verdant_<board_id>]) and the availability topic.
"""
from verdant import VERSION
from verdant.protocol import dumps

# quantity -> (Home Assistant device_class or None, unit)
QUANTITY_UNITS = {
    "air_temp_c": ("temperature", "\u00b0C"),
    "rh_pct": ("humidity", "%"),
    "co2_ppm": ("carbon_dioxide", "ppm"),
    "light_lux": ("illuminance", "lx"),
    "par_umol_m2_s": (None, "\u00b5mol/m\u00b2/s"),
    "soil_moisture_pct": ("moisture", "%"),
    "soil_temp_c": ("temperature", "\u00b0C"),
    "vpd_kpa": ("pressure", "kPa"),
    "dew_point_c": ("temperature", "\u00b0C"),
    "dew_point_margin_c": (None, "\u00b0C"),
    "abs_humidity_g_m3": (None, "g/m\u00b3"),
    "dli_mol_m2": (None, "mol/m\u00b2"),
}
KIND_TOPICS = ("reading", "alert", "status", "error")
ONLINE, OFFLINE = b"online", b"offline"
_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def check_id(text, what="board_id"):
    """text when it is safe in a topic and an entity id (letters, digits, _ and -), else ValueError."""
    if not isinstance(text, str) or not text or len(text) > 64:
        raise ValueError("%s must be 1..64 characters" % what)
    for ch in text:
        if ch not in _SAFE:
            raise ValueError("%s %r: only letters, digits, '_' and '-' are allowed" % (what, text))
    return text


def slug(text):
    """A topic-safe id from free text ("Verdant vboard" -> "verdant_vboard")."""
    out = []
    for ch in str(text).lower():
        out.append(ch if ch in _SAFE else "_")
    return "".join(out).strip("_")[:64] or "board"


# Home Assistant shows a sensor as unavailable after this long without a reading line
# (4 missed 15-minute steps): a board that is connected but no longer samples (a hung
# sensor bus, safe mode without readings) does not leave old values on screen as current.
EXPIRE_AFTER_S = 3600


class Topics:
    def __init__(self, board_id, prefix="verdant", discovery_prefix="homeassistant", board_name=None):
        self.board_id = check_id(board_id)
        for part in prefix.split("/") + discovery_prefix.split("/"):
            check_id(part, "topic prefix part")
        self.base = prefix + "/" + board_id
        self.discovery_prefix = discovery_prefix
        self.board_name = board_name or board_id
        self.availability = self.base + "/availability"

    def kind(self, kind):
        return self.base + "/" + kind

    def problem(self, alert_type):
        return self.base + "/problem/" + alert_type

    def _device(self):
        return {"identifiers": ["verdant_" + self.board_id], "name": "Verdant " + self.board_name,
                "manufacturer": "Verdant", "model": "greenhouse monitor", "sw_version": VERSION}

    def _common(self, object_id, name):
        return {"unique_id": "verdant_%s_%s" % (self.board_id, object_id), "name": name,
                "object_id": "verdant_%s_%s" % (self.board_id, object_id),
                "availability_topic": self.availability, "payload_available": "online",
                "payload_not_available": "offline", "device": self._device(), "qos": 1}

    def sensor_config(self, quantity):
        """(topic, payload dict) announcing one quantity of the reading lines as a sensor."""
        check_id(quantity, "quantity")
        device_class, unit = QUANTITY_UNITS.get(quantity, (None, None))
        config = self._common(quantity, quantity.replace("_", " "))
        config["state_topic"] = self.kind("reading")
        config["value_template"] = "{{ value_json.p.%s }}" % quantity
        config["state_class"] = "measurement"
        config["expire_after"] = EXPIRE_AFTER_S
        if device_class:
            config["device_class"] = device_class
        if unit:
            config["unit_of_measurement"] = unit
        return "%s/sensor/%s/%s/config" % (self.discovery_prefix, self.board_id, quantity), config

    def problem_config(self, alert_type):
        """(topic, payload dict) announcing one alert type as a problem binary_sensor;
        severity and reason come along as attributes."""
        check_id(alert_type, "alert type")
        config = self._common("alert_" + alert_type, alert_type.replace("_", " "))
        config["device_class"] = "problem"
        config["state_topic"] = self.problem(alert_type)
        config["value_template"] = "{{ value_json.state }}"
        config["payload_on"] = "ON"
        config["payload_off"] = "OFF"
        config["json_attributes_topic"] = self.problem(alert_type)
        return "%s/binary_sensor/%s/alert_%s/config" % (self.discovery_prefix, self.board_id, alert_type), config


def problem_state(payload, t):
    """The retained state message of an alert type after one alert line's payload."""
    on = payload.get("event") not in ("clear", "note")  # a note (info, said once) turns nothing on
    return {"state": "ON" if on else "OFF", "severity": payload.get("severity"),
            "reason": payload.get("reason"), "since": t, "event": payload.get("event"),
            "source": payload.get("source")}


def encode(payload):
    """Canonical JSON bytes (the protocol's own encoder: same text on board and host)."""
    return dumps(payload).encode()
