# Rule configuration: defaults, board overrides and errors naming the key.
from verdant.rules import load_rules, judge, DEFAULT_RULES
from mpytest import raises


def test_defaults_load_and_cover_required_alert_types():
    rules, settings = load_rules()
    for name in ("frost_risk", "heat_stress", "disease_risk", "vpd_low", "vpd_high",
                 "dry_soil", "co2_high", "co2_low"):
        assert rules[name]["enabled"]
    assert settings["model_consecutive"] >= 1


def test_override_merges_one_field():
    rules, settings = load_rules({"frost_risk": {"raise": 0.5}, "cooldown_s": 60})
    assert rules["frost_risk"]["raise"] == 0.5
    assert rules["frost_risk"]["clear"] == DEFAULT_RULES["frost_risk"][3]
    assert settings["cooldown_s"] == 60


def test_new_rule_needs_every_field():
    rules, _ = load_rules({"leaf_wet": {"series": "dew_point_margin_c", "when": "below", "raise": 1.0,
                                         "clear": 2.0, "raise_after_s": 0, "clear_after_s": 0,
                                         "severity": "info"}})
    assert rules["leaf_wet"]["series"] == "dew_point_margin_c"
    with raises(ValueError, "alerts.leaf_wet: unknown rule; a new rule needs"):
        load_rules({"leaf_wet": {"raise": 1.0}})


def test_errors_name_the_key():
    with raises(ValueError, "alerts.frost_risk.raise: expected a number, got '1'"):
        load_rules({"frost_risk": {"raise": "1"}})
    with raises(ValueError, "alerts.frost_risk.clear: must be above raise"):
        load_rules({"frost_risk": {"raise": 5.0}})
    with raises(ValueError, "alerts.heat_stress.clear: must be below raise"):
        load_rules({"heat_stress": {"clear": 40.0}})
    with raises(ValueError, "alerts.dry_soil.colour: unknown field"):
        load_rules({"dry_soil": {"colour": 1}})
    with raises(ValueError, "alerts.co2_low.severity"):
        load_rules({"co2_low": {"severity": "panic"}})
    with raises(ValueError, "alerts.model_threshold"):
        load_rules({"model_threshold": 1.5})
    with raises(ValueError, "alerts.model_clear: must not exceed"):
        load_rules({"model_clear": 0.9})
    with raises(ValueError, "alerts: expected an object"):
        load_rules([1])


def test_judge_below_and_above():
    rules, _ = load_rules()
    assert judge(rules["frost_risk"], 1.0) == (True, False)
    assert judge(rules["frost_risk"], 3.0) == (False, False)
    assert judge(rules["frost_risk"], 4.0) == (False, True)
    assert judge(rules["heat_stress"], 36.0) == (True, False)
    assert judge(rules["heat_stress"], None) == (None, None)
