"""Which shipped model fits a sensor set: the default model (models/default) or one of the
generic per-sensor-set models (models/sets/<set>/, see setmodels.py), the one that uses the
most of the board's (or CSV's) quantities among those whose every input the board can
compute. None when no model fits: the board runs its rules and sensor-fault detectors
only, and says why.

    path, why = choose(["air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"])
"""
import glob
import os

from verdant_host import paths

SETS_DIR = os.path.join(paths.MODELS_DIR, "sets")
# The sensor sets the generic set models are made for (verdant_host.setmodels trains one per set).
SETS = {
    "t_rh": ("air_temp_c", "rh_pct"),
    "t_rh_co2": ("air_temp_c", "rh_pct", "co2_ppm"),
    "t_rh_co2_light": ("air_temp_c", "rh_pct", "co2_ppm", "par_umol_m2_s"),
    "t_rh_co2_lux": ("air_temp_c", "rh_pct", "co2_ppm", "light_lux"),
}


def board_set(fitted):
    """The largest of SETS whose every sensor the board has (None without T and RH)."""
    best = None
    for name, sensors in SETS.items():
        if all(q in fitted for q in sensors) and (best is None or len(sensors) > len(SETS[best])):
            best = name
    return best


def serves(path):
    """The sets a set model was checked for and found to help (its info.json "serves"), or
    None when nothing says (a model outside models/sets, a user's own model)."""
    import json
    try:
        with open(os.path.join(os.path.dirname(path), "info.json")) as f:
            return json.load(f).get("serves")
    except (OSError, ValueError):
        return None


def candidates():
    """Shipped model files, the default first."""
    found = [paths.DEFAULT_MODEL] if os.path.exists(paths.DEFAULT_MODEL) else []
    return found + sorted(glob.glob(os.path.join(SETS_DIR, "*", "model.bin")))


def model_inputs(path):
    """(model name, feature names) from a model file's metadata."""
    from verdant.engine.modelfile import parse
    with open(path, "rb") as f:
        model = parse(f.read())
    return model.meta.get("name", os.path.basename(os.path.dirname(path))), list(model.meta.get("features", []))


def lacking(features, fitted):
    """Quantities the sensor set lacks for these features (empty when it can feed them all)."""
    from verdant.features import missing_inputs
    out = []
    for name in features:
        for q in missing_inputs(name, fitted):
            if q not in out:
                out.append(q)
    return out


def choose(fitted, models=None, restrict=True):
    """(model path or None, one line saying which model runs and why). With restrict, a set
    model runs only on the sets it was found to help (serves): the T+RH+CO2 model is not run
    on a T+RH+CO2+PAR board unless it helped there too."""
    fitted = list(fitted)
    best, refused = None, []
    for path in models if models is not None else candidates():
        name, features = model_inputs(path)
        missing = lacking(features, fitted)
        if missing:
            refused.append("%s needs %s" % (name, " and ".join(missing)))
            continue
        helps = serves(path) if restrict else None
        if helps is not None and board_set(fitted) not in helps:
            refused.append("%s did not help %s boards on the dev split (%s)" % (
                name, board_set(fitted) or "these", os.path.relpath(os.path.join(os.path.dirname(path), "info.json"),
                                                                    paths.REPO_DIR)))
            continue
        # the quantities this model needs: without one of them it would not fit
        used = [q for q in fitted if lacking(features, [x for x in fitted if x != q])]
        if best is None or len(used) > best[2]:
            best = (path, name, len(used))
    sensors = ", ".join(fitted) or "none"
    if best is None:
        return None, "no model fits the sensors (%s): %s; rules and sensor-fault detectors only" % (
            sensors, "; ".join(refused) or "no model files")
    return best[0], "model %s (%s) for the sensors %s" % (best[1], os.path.relpath(best[0], paths.REPO_DIR), sensors)


def csv_quantities(path):
    """Quantities with at least one value in a replay CSV (None when it cannot be read)."""
    from verdant_host.errors import VerdantError
    from verdant_host.replay import QUANTITIES, read_rows
    try:
        with open(path, newline="") as f:
            lines = f.read().splitlines()
        rows = list(read_rows(lines, []))
    except (OSError, UnicodeDecodeError, VerdantError):
        return None  # replay itself reports what is wrong with the file
    seen = set()
    for _, _, values in rows:
        for q, v in values.items():
            if v is not None:
                seen.add(q)
    return [q for q in QUANTITIES if q in seen]


def for_board(model_bytes, model_name, config):
    """(model bytes or None, note or None) for a deploy: the given model when the board can
    feed it, else the shipped model that fits the board's sensors, else None (the board
    runs its rules only) with a note saying so. Flash and RAM misfits still raise."""
    from verdant_host.deploy import check_model_fits, fitted_quantities
    from verdant_host.errors import VerdantError
    try:
        check_model_fits(model_bytes, config, model_name)
        return model_bytes, None
    except VerdantError as exc:
        if "has no sensor for" not in str(exc):
            raise
        first = str(exc).replace("deploy: ", "", 1)
    path, why = choose(sorted(fitted_quantities(config)))
    if path is None:
        return None, "WARNING: %s; %s" % (first, why.replace("no model fits", "and no shipped model fits"))
    with open(path, "rb") as f:
        data = f.read()
    check_model_fits(data, config, os.path.basename(os.path.dirname(path)))
    return data, "%s; deploying %s instead" % (first, why)
