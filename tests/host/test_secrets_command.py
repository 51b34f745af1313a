"""`verdant secrets`: the file is checked on the host, copied onto a (virtual) board, and
never printed."""
import json
import os

import pytest

from vboard_helpers import MICROPYTHON, require_tools
from verdant_host.cli import main
from verdant_host.vboard import VirtualBoard

SECRETS = {"wifi": {"ssid": "greenhouse-net", "password": "hunter2-wifi"},
           "mqtt": {"url": "mqtt://grower:hunter2-mqtt@broker.lan:1884", "board_id": "gh-north"}}


def _write(tmp_path, secrets):
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(secrets) if isinstance(secrets, dict) else secrets)
    return str(path)


def test_check_names_the_problem_without_the_content(tmp_path, capsys):
    assert main(["secrets", "--check", "--file", _write(tmp_path, SECRETS)]) == 0
    out = capsys.readouterr().out
    assert "gh-north" in out and "broker.lan:1884" in out and "hunter2" not in out and "grower" not in out
    bad = dict(SECRETS, mqtt={"url": "mqtt://grower:hunter2-mqtt@broker.lan:99999"})
    assert main(["secrets", "--check", "--file", _write(tmp_path, bad)]) == 1
    assert main(["secrets", "--check", "--file", _write(tmp_path, '{"mqtt": {"url": "hunter2')]) == 1
    err = capsys.readouterr().err
    assert "port out of range" in err and "not valid JSON" in err and "hunter2" not in err


def test_secrets_reach_the_board(tmp_path, capsys):
    require_tools()
    board = VirtualBoard(str(tmp_path / "fs"), micropython=MICROPYTHON)
    board.start()
    try:
        assert board.wait_ready()
        assert main(["secrets", "--port", board.port, "--file", _write(tmp_path, SECRETS)]) == 0
    finally:
        board.stop()
    with open(os.path.join(str(tmp_path / "fs"), "secrets.json")) as f:
        assert json.load(f) == SECRETS
    out = capsys.readouterr().out
    assert "written to the board" in out and "hunter2" not in out
