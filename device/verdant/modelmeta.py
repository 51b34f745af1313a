"""Model metadata: the one validator (parser, deploy and app use it) and the one
"does this model fit this board" check.

A model file's metadata is a JSON object; every key is optional for the engine alone
(test models carry only layers), but what is present must be coherent:
  period_s           feature period in seconds, > 0
  window             feature rows per input, int >= 1 (default 1)
  labels             one name per model output
  features           names of verdant.features; len(features) x window = model inputs
  norm_mean/norm_std one value per feature, std > 0
  alert_threshold    probability in [0, 1]; alert_consecutive int >= 1
  sensor_habits      site models: {quantity: {"changed_pct": 24 ints 0-100 or 255,
                     "stuck_run": int 3-48, "jump_limit": number > 0}} (verdant.sensorfaults)
  levels, label_gates  site models: {quantity: {"low": 24 numbers, "high": 24 numbers}} (the
                     history's range per hour of the day, +-1 h) and {label: [quantity,
                     "below"|"above"]}: the label alerts only while the quantity is beyond it
  sun_gates          {label: "down"|"up"}: the label alerts only while the sun is down (below
                     verdant.sun.SUN_UP_DEG) / up at the board's place (settings latitude_deg,
                     longitude_deg); on a board without a place the label's levels/label_gates
                     (the training site's clock hours) apply instead, so a model with sun_gates
                     carries both
  co2_hold           site models: {"set_ppm": number, "below_ppm": number > 0} (verdant.normalband)
  night_hold         site models: {"level_c": number, "below_c": number > 0, "settled_below_c":
                     number > 0} (verdant.normalband)

Example:
    check_meta(model.meta, model.input_elements, model.output_elements)   # ValueError
    why = model_fits(model.meta, ["air_temp_c", "rh_pct"])                # None or why not
"""


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return (isinstance(value, (int, float))) and not isinstance(value, bool)


def _names(meta, key):
    names = meta[key]
    if not isinstance(names, list) or not names:
        raise ValueError("metadata %s: expected a non-empty list of names, got %r" % (key, names))
    for name in names:
        if not isinstance(name, str):
            raise ValueError("metadata %s: expected names, got %r" % (key, name))
    return names


def check_meta(meta, inputs=None, outputs=None):
    """Raise ValueError naming the first metadata field that is wrong or does not match
    the model's input/output sizes (when given)."""
    if not isinstance(meta, dict):
        raise ValueError("metadata: expected an object, got %r" % (meta,))
    if "period_s" in meta and not (_is_number(meta["period_s"]) and meta["period_s"] > 0):
        raise ValueError("metadata period_s: expected seconds > 0, got %r" % (meta["period_s"],))
    window = meta.get("window", 1)
    if not _is_int(window) or window < 1:
        raise ValueError("metadata window: expected an int >= 1, got %r" % (window,))
    if "labels" in meta:
        labels = _names(meta, "labels")
        if outputs is not None and len(labels) != outputs:
            raise ValueError("metadata labels: %d labels for %d model outputs" % (len(labels), outputs))
    if "features" in meta:
        features = _names(meta, "features")
        if inputs is not None and len(features) * window != inputs:
            raise ValueError("metadata features: %d features x window %d = %d, but the model takes %d inputs"
                             % (len(features), window, len(features) * window, inputs))
        for key in ("norm_mean", "norm_std"):
            if key not in meta:
                continue  # required by model_fits (the app), not by the engine
            values = meta[key]
            if not isinstance(values, list) or len(values) != len(features):
                raise ValueError("metadata %s: expected %d numbers (one per feature), got %r"
                                 % (key, len(features), values))
            for i, value in enumerate(values):
                if not _is_number(value) or (key == "norm_std" and not value > 0):
                    raise ValueError("metadata %s[%d] (%s): expected a number%s, got %r"
                                     % (key, i, features[i], " > 0" if key == "norm_std" else "", value))
    if "alert_threshold" in meta and not (_is_number(meta["alert_threshold"]) and 0 <= meta["alert_threshold"] <= 1):
        raise ValueError("metadata alert_threshold: expected a probability in [0, 1], got %r"
                         % (meta["alert_threshold"],))
    if "sensor_habits" in meta:
        _check_habits(meta["sensor_habits"])
    if "label_gates" in meta or "levels" in meta:
        _check_gates(meta)
    if "sun_gates" in meta:
        _check_sun_gates(meta)
    if "co2_hold" in meta:
        hold = meta["co2_hold"]
        if not (isinstance(hold, dict) and _is_number(hold.get("set_ppm")) and _is_number(hold.get("below_ppm"))
                and hold["below_ppm"] > 0 and len(hold) == 2):
            raise ValueError("metadata co2_hold: expected {\"set_ppm\": number, \"below_ppm\": number > 0}, got %r"
                             % (hold,))
    if "night_hold" in meta:
        hold = meta["night_hold"]
        if not (isinstance(hold, dict) and _is_number(hold.get("level_c")) and _is_number(hold.get("below_c"))
                and _is_number(hold.get("settled_below_c")) and hold["below_c"] > 0 and hold["settled_below_c"] > 0
                and len(hold) == 3):
            raise ValueError("metadata night_hold: expected {\"level_c\": number, \"below_c\": number > 0, "
                             "\"settled_below_c\": number > 0}, got %r" % (hold,))
    if "alert_consecutive" in meta and not (_is_int(meta["alert_consecutive"]) and meta["alert_consecutive"] >= 1):
        raise ValueError("metadata alert_consecutive: expected an int >= 1, got %r" % (meta["alert_consecutive"],))


def _check_habits(habits):
    if not isinstance(habits, dict):
        raise ValueError("metadata sensor_habits: expected an object, got %r" % (habits,))
    for q, habit in habits.items():
        where = "metadata sensor_habits.%s" % q
        if not isinstance(habit, dict):
            raise ValueError("%s: expected an object, got %r" % (where, habit))
        for key, value in habit.items():
            if key == "changed_pct":
                ok = isinstance(value, list) and len(value) == 24 and all(
                    _is_int(v) and (0 <= v <= 100 or v == 255) for v in value)
                want = "24 ints 0-100 (255: hour not seen)"
            elif key == "stuck_run":
                ok, want = _is_int(value) and 3 <= value <= 48, "an int 3-48"
            elif key == "jump_limit":
                ok, want = _is_number(value) and value > 0, "a number > 0"
            else:
                raise ValueError("%s.%s: unknown key (expected changed_pct, stuck_run, jump_limit)" % (where, key))
            if not ok:
                raise ValueError("%s.%s: expected %s, got %r" % (where, key, want, value))


def _check_gates(meta):
    levels, gates = meta.get("levels"), meta.get("label_gates")
    if not isinstance(levels, dict) or not isinstance(gates, dict):
        raise ValueError("metadata levels and label_gates: expected two objects, got %r and %r" % (levels, gates))
    for q, pair in levels.items():
        for key in ("low", "high"):
            values = pair.get(key) if isinstance(pair, dict) else None
            if not (isinstance(values, list) and len(values) == 24 and all(_is_number(v) for v in values)):
                raise ValueError("metadata levels.%s.%s: expected 24 numbers (one per hour), got %r" % (q, key, values))
    labels = meta.get("labels") or ()
    for label, gate in gates.items():
        if labels and label not in labels:
            raise ValueError("metadata label_gates.%s: not one of the model's labels" % label)
        if not (isinstance(gate, list) and len(gate) == 2 and gate[0] in levels and gate[1] in ("below", "above")):
            raise ValueError("metadata label_gates.%s: expected [a quantity of levels, \"below\" or \"above\"], "
                             "got %r" % (label, gate))


def _check_sun_gates(meta):
    gates = meta["sun_gates"]
    if not isinstance(gates, dict):
        raise ValueError("metadata sun_gates: expected an object {label: \"down\" or \"up\"}, got %r" % (gates,))
    labels = meta.get("labels") or ()
    for label, side in gates.items():
        if labels and label not in labels:
            raise ValueError("metadata sun_gates.%s: not one of the model's labels" % label)
        if side not in ("down", "up"):
            raise ValueError("metadata sun_gates.%s: expected \"down\" or \"up\", got %r" % (label, side))


def model_fits(meta, fitted):
    """None when a board measuring the quantities `fitted` can feed this model, else why not.

    The metadata is assumed checked (check_meta); this adds what the board decides."""
    from verdant.features import missing_inputs
    try:
        check_meta(meta)
    except ValueError as exc:
        return "model metadata unusable: %s" % exc
    for key in ("features", "labels", "norm_mean", "norm_std"):
        if key not in meta:
            return "model metadata has no %s" % key
    for name in meta["features"]:
        try:
            lacking = missing_inputs(name, fitted)
        except ValueError as exc:
            return "model metadata unusable: %s" % exc
        if lacking:
            return "board has no sensor for %s (model feature %s)" % (", ".join(lacking), name)
    return None
