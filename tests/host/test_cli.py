"""The CLI's error path: `verdant: message` on stderr and a non-zero exit."""
from verdant_host import cli


def test_missing_micropython_is_reported_by_name(capsys, tmp_path):
    missing = str(tmp_path / "no-such-micropython")
    assert cli.main(["info", "--micropython", missing]) == 1
    err = capsys.readouterr().err
    assert err.startswith("verdant: cannot run micropython at %s" % missing)


def test_no_command_prints_help_and_fails(capsys):
    assert cli.main([]) == 2
    assert "usage: verdant" in capsys.readouterr().err
