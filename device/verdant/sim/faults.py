"""Sensor faults scheduled in simulated time, for the virtual board and long sim runs.

The greenhouse simulator's truth is the air, not the sensors; these faults belong
to the simulated parts. make_sim_hal(..., faults=[...]) takes a list of dicts:

    {"kind": "stuck",   "sensor": "air",  "start_s": t0, "end_s": t1}
    {"kind": "drift",   "quantity": "rh_pct", "start_s": t0, "end_s": t1, "per_hour": 3.0}
    {"kind": "spikes",  "quantity": "co2_ppm", "start_s": t0, "end_s": t1, "size": 1500, "probability": 0.2}
    {"kind": "dropout", "sensor": "soil", "start_s": t0, "end_s": t1}
    {"kind": "bad_crc" | "out_of_range", "sensor": ..., "start_s": ..., "end_s": ...}

`sensor` names a board sensor; `quantity` picks the sensor measuring it (first in
the board config). Kinds may carry the greenhouse simulator's "sensor_" prefix.
Times are the simulated clock's Unix seconds; a fault is active for start_s <= t < end_s.
"""

from verdant.sim.part import Random

KINDS = ("stuck", "drift", "spikes", "dropout", "bad_crc", "out_of_range")
_KEYS = ("kind", "sensor", "quantity", "start_s", "end_s", "per_hour", "size", "probability", "seed")


class ScheduledFault:
    """One fault window on one part. attr: the part attribute it affects (None = all)."""

    def __init__(self, kind, start_s, end_s, attr=None, per_hour=0.0, size=0.0, probability=0.2, seed=1):
        self.kind = kind
        self.start_ms = int(start_s * 1000)
        self.end_ms = int(end_s * 1000)
        self.attr = attr
        self.per_hour = per_hour
        self.size = size
        self.probability = probability
        self.frozen = None  # stuck: the values seen when the window opened
        self._random = Random(seed)

    def active(self, now_ms):
        return self.start_ms <= now_ms < self.end_ms

    def affects(self, attr):
        return self.attr is None or self.attr == attr

    def random(self):
        """Deterministic uniform [0, 1), the same under MicroPython and CPython."""
        return self._random.random()


def attach_faults(hal, faults):
    """Validates the fault list and hangs each fault on its part (hal.parts)."""
    sensors = hal.config["sensors"]
    for i, spec in enumerate(faults):
        where = "faults[%d]" % i
        if not isinstance(spec, dict):
            raise ValueError("%s: expected an object, got %r" % (where, spec))
        for key in spec:
            if key not in _KEYS:
                raise ValueError("%s: unknown key %r (allowed: %s)" % (where, key, ", ".join(_KEYS)))
        kind = spec.get("kind", "")
        if isinstance(kind, str) and kind.startswith("sensor_"):
            kind = kind[7:]
        if kind not in KINDS:
            raise ValueError("%s.kind: expected one of %s, got %r" % (where, ", ".join(KINDS), spec.get("kind")))
        for key in ("start_s", "end_s"):
            if not isinstance(spec.get(key), (int, float)) or isinstance(spec.get(key), bool):
                raise ValueError("%s.%s: expected seconds, got %r" % (where, key, spec.get(key)))
        if spec["end_s"] <= spec["start_s"]:
            raise ValueError("%s: end_s %r must be after start_s %r" % (where, spec["end_s"], spec["start_s"]))
        name, quantity = _target(where, spec, sensors)
        part = hal.parts[name]
        attr = _attr_of(part, quantity)
        if kind in ("drift", "spikes") and attr is None:
            if len(part.TRUTH) != 1:
                raise ValueError("%s: %s on sensor %r needs a quantity (%s)" % (
                    where, kind, name, ", ".join(sorted(part.TRUTH.values()))))
            attr = list(part.TRUTH)[0]
        needed = {"drift": "per_hour", "spikes": "size"}.get(kind)
        if needed and not isinstance(spec.get(needed), (int, float)):
            raise ValueError("%s.%s: %s needs a number, got %r" % (where, needed, kind, spec.get(needed)))
        part.faults.append(ScheduledFault(kind, spec["start_s"], spec["end_s"], attr,
                                          spec.get("per_hour", 0.0), spec.get("size", 0.0),
                                          spec.get("probability", 0.2), spec.get("seed", i + 1)))


def _target(where, spec, sensors):
    name, quantity = spec.get("sensor"), spec.get("quantity")
    if name is not None:
        for s in sensors:
            if s["name"] == name:
                return name, quantity
        raise ValueError("%s.sensor: no sensor named %r on this board" % (where, name))
    if quantity is None:
        raise ValueError("%s: give sensor or quantity" % where)
    from verdant.quantities import of_sensor
    for s in sensors:
        if quantity in of_sensor(s):
            return s["name"], quantity
    raise ValueError("%s.quantity: no sensor on this board measures %r" % (where, quantity))


def _attr_of(part, quantity):
    if quantity is None:
        return None
    for attr, key in part.TRUTH.items():
        if key == quantity:
            return attr
    raise ValueError("%s does not measure %r" % (type(part).__name__, quantity))
