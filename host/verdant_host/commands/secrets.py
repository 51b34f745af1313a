"""`verdant secrets --port P --file secrets.json`: check a board's Wi-Fi/MQTT secrets on
this machine, then copy them onto the board (docs/mqtt.md). Nothing of the file's
content is printed; the port lock applies as for deploy."""
import json
import os

from verdant_host.errors import VerdantError


def check_secrets_file(path):
    """(raw bytes, settings dict) of a secrets file, checked with the board's own code."""
    from verdant.mqtt_publish import settings_from_secrets
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise VerdantError("secrets: cannot read %s (%s)" % (path, exc.strerror or exc))
    try:
        secrets = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerdantError("secrets: %s is not valid JSON (content not shown: it holds secrets)" % path)
    try:
        return data, secrets, settings_from_secrets(secrets, {"name": "board"})
    except ValueError as exc:
        raise VerdantError("secrets: %s" % exc)


def _run(args):
    data, secrets, settings = check_secrets_file(args.file)
    board_id = secrets["mqtt"].get("board_id") or "from the chip (verdant-<unique id>)"
    where = "%s:%d%s" % (settings["url"]["host"], settings["url"]["port"], " (TLS)" if settings["url"]["ssl"] else "")
    if args.check:
        print("secrets: %s is usable: board id %s, broker %s%s" % (
            args.file, board_id, where, ", Wi-Fi" if secrets.get("wifi") else ""))
        return 0
    if not args.port:
        raise VerdantError("secrets: no serial port; pass --port /dev/ttyUSB0 (or --check to only check the file)")
    from verdant_host.deploy_transport import open_transport
    with open_transport(args.transport, args.port, command="secrets") as link:
        link.write_file("secrets.new", data)
        link.replace("secrets.new", "secrets.json")
    print("secrets: secrets.json written to the board on %s (board id %s, broker %s); the board uses it "
          "from its next start" % (args.port, board_id, where))
    return 0


def register(subparsers):
    p = subparsers.add_parser("secrets", help="check secrets.json (Wi-Fi, MQTT broker) and copy it onto a board")
    p.add_argument("--file", default="secrets.json", help="the secrets file (git-ignored; see docs/mqtt.md)")
    p.add_argument("--port", default=os.environ.get("PORT"), help="serial port ($PORT)")
    p.add_argument("--transport", default=os.environ.get("TRANSPORT", "mpremote"), choices=("mpremote", "ampy"))
    p.add_argument("--check", action="store_true", help="only check the file, touch no board")
    p.set_defaults(handler=_run)
