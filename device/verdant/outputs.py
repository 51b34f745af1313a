"""Outputs beside the serial line, configured by files on the board.

secrets.json (never in the repo, never echoed in a line or a log) turns on MQTT:
    {"wifi": {"ssid": "...", "password": "..."},
     "mqtt": {"url": "mqtt://user:password@broker.local:1883", "board_id": "gh-north"}}
Without the file there are no extra outputs. See docs/mqtt.md.
"""
SECRETS_FILE = "secrets.json"


def read_secrets(path=SECRETS_FILE, opener=open):
    """The secrets dict, or None when the file is absent. Errors never quote the file's text."""
    try:
        f = opener(path)
    except OSError:
        return None
    try:
        text = f.read()
    finally:
        f.close()
    import json
    try:
        secrets = json.loads(text)
    except ValueError:
        raise ValueError("%s: not valid JSON (content not shown: it holds secrets)" % path)
    if not isinstance(secrets, dict):
        raise ValueError("%s: must be a JSON object with \"mqtt\" and optional \"wifi\"" % path)
    return secrets


def from_board_files(hal, board, path=SECRETS_FILE, opener=open):
    """[outputs] for app.App(outputs=...): an MQTT publisher when secrets.json has "mqtt"."""
    prefix = getattr(hal, "storage", "") or ""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    secrets = read_secrets(prefix + path, opener)
    if not secrets or not secrets.get("mqtt"):
        return []
    from verdant.mqtt_publish import publisher_from_secrets
    return [publisher_from_secrets(secrets, hal, board, storage=prefix)]
