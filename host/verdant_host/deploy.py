"""Deploy the firmware, board config and model to a board over its serial port.

Steps: check the model against the board (flash, RAM, sensors for every model input),
compile the modules device/manifest.py declares with mpy-cross for the board's arch (before
connecting: a board whose watchdog runs must not wait), then over one REPL session
(mpremote's or ampy's transport): feed the board's watchdog on every exec when its config
runs one, check the board's arch and .mpy ABI before anything is copied, set its clock to
UTC, and install with deploy_slots: every file goes to a temporary name, its hash is checked
on the board, then it is renamed; the firmware goes into its own folder, the model is loaded
by the new firmware's parser before it replaces model.bin, and main.py is written last, so a
deploy cut off anywhere leaves a board that boots the old or the new firmware. Only files
that differ cross the serial line.

Example:
    report = deploy("boards/sim.json", "/dev/pts/3", "models/default/model.bin")
    print(report.summary())
"""
import hashlib
import json
import os
import subprocess
import time

from verdant_host import deploy_slots, manifest, paths
from verdant_host.deploy_transport import open_transport
from verdant_host.errors import VerdantError

MODEL_REMOTE = "model.bin"
MODEL_STAGING = "model.new"
# Written by a rules-only deploy: why no model runs, which the board's model status gives
# (verdant.modelslot); removed when a model is deployed.
RULES_ONLY_REMOTE = "model.none"
NATIVE_MODULE = paths.NATIVE_MODULE
ENTRY_POINTS = ("boot.py", "main.py")  # files in the board's root, run by MicroPython itself


class DeployReport:
    def __init__(self):
        self.sent = []       # remote paths written
        self.unchanged = []  # remote paths already identical on the board
        self.removed = []    # stale board files and folders deleted
        self.copied = []     # files the board copied from its previous firmware folder
        self.slot = None     # the firmware folder main.py now points at
        self.bytes_sent = 0
        self.notes = []      # human-readable remarks (native module absent, ...)
        self.model_verified = False

    def summary(self):
        lines = ["deploy: %d file(s) sent (%d bytes), %d copied on the board, %d unchanged, %d stale removed"
                 % (len(self.sent), self.bytes_sent, len(self.copied), len(self.unchanged), len(self.removed))]
        if self.slot:
            lines.append("deploy: firmware in %s (main.py puts it on sys.path)" % self.slot)
        lines += ["deploy: " + note for note in self.notes]
        return "\n".join(lines)


# ---- checks before anything is copied ---------------------------------------------------

def load_board_config(board):
    """A board name ("sim") or a path to its JSON; returns the validated config dict."""
    path = paths.board_config(board)
    if not os.path.exists(path):
        raise VerdantError("deploy: no board config %s; boards: %s" % (path, ", ".join(paths.board_names())))
    from verdant.board import BoardConfigError, load_board
    try:
        return load_board(path)
    except (BoardConfigError, ValueError, OSError) as exc:
        raise VerdantError("deploy: %s" % exc)


def fitted_quantities(config):
    from verdant.quantities import of_sensor
    fitted = set()
    for sensor in config.get("sensors", []):
        fitted.update(of_sensor(sensor))
    return fitted


def check_model_fits(model_bytes, config, model_name="model"):
    """Parse the model and check it against the board; returns the parsed model.

    Raises VerdantError naming what does not fit (flash, RAM, a model input no sensor feeds)."""
    from verdant.engine.modelfile import ModelError, parse
    from verdant.features import missing_inputs
    try:
        model = parse(model_bytes)
    except ModelError as exc:
        raise VerdantError("deploy: %s is not a valid model file: %s" % (model_name, exc))
    limits = config.get("model_limits", {})
    board = config.get("name", "board")
    if model.file_bytes > limits.get("flash_bytes", float("inf")):
        raise VerdantError("deploy: %s is %d bytes but %s allows %d bytes of model flash; use a smaller model"
                           % (model_name, model.file_bytes, board, limits["flash_bytes"]))
    ram_needed = model.file_bytes + model.arena_bytes  # the file is held in RAM, plus the arena
    if ram_needed > limits.get("ram_bytes", float("inf")):
        raise VerdantError("deploy: %s needs %d bytes of RAM (file %d + arena %d) but %s allows %d"
                           % (model_name, ram_needed, model.file_bytes, model.arena_bytes, board, limits["ram_bytes"]))
    fitted = fitted_quantities(config)
    for feature in model.meta.get("features", []):
        try:
            lacking = missing_inputs(feature, fitted)
        except ValueError as exc:
            raise VerdantError("deploy: %s: %s" % (model_name, exc))
        if lacking:
            raise VerdantError("deploy: %s input %s needs %s, which %s has no sensor for"
                               % (model_name, feature, " and ".join(lacking), board))
    from verdant.modelmeta import model_fits  # what the board itself decides at load
    why = model_fits(model.meta, fitted)
    if why is not None:
        raise VerdantError("deploy: %s would not run on %s: %s" % (model_name, board, why))
    return model


# ---- what goes onto the board -----------------------------------------------------------

def device_sources(include_sim, manifest_path=None):
    """(path under lib/, local path) of every module device/manifest.py declares for the board."""
    return manifest.payload(sim=include_sim, manifest_path=manifest_path)


def compile_device_code(arch, build_dir, include_sim, manifest_path=None):
    """mpy-cross every board module into build_dir/lib/...

    Returns ({remote path: local file}, notes). A module mpy-cross refuses is shipped as
    source instead (the board compiles it at import, and the error shows there), with a
    note saying so: one module must not block a deploy."""
    files, notes = {}, []
    for rel, src in device_sources(include_sim, manifest_path):
        out = os.path.join(build_dir, "lib", rel[:-3] + ".mpy")
        if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(src):
            os.makedirs(os.path.dirname(out), exist_ok=True)
            # written aside then renamed: a deploy running alongside never reads a half-written .mpy
            partial = "%s.%d.part" % (out, os.getpid())
            try:
                result = subprocess.run([paths.mpy_cross(), "-march=" + arch, "-o", partial, "-s", rel, src],
                                        capture_output=True, text=True, timeout=60)
            except OSError as exc:
                raise VerdantError("deploy: cannot run mpy-cross (%s); run `make setup`" % exc)
            if result.returncode == 0:
                os.replace(partial, out)
            else:
                for stale in (partial, out):
                    if os.path.exists(stale):
                        os.remove(stale)
                error = result.stderr.strip().splitlines()
                notes.append("mpy-cross refused %s (%s); shipped as source instead"
                             % (rel, error[-1] if error else "exit %d" % result.returncode))
                files["lib/" + rel] = src
                continue
        files["lib/" + rel[:-3] + ".mpy"] = out
    return files, notes


def mpy_cross_version():
    """"1.28" from `mpy-cross --version` (None when it cannot be read)."""
    try:
        out = subprocess.run([paths.mpy_cross(), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    words = out.split()
    if len(words) > 1 and words[1].startswith("v"):
        return ".".join(words[1][1:].split(".")[:2])
    return None


def version_note(config):
    """A remark when the board's MicroPython and mpy-cross differ in major.minor, else None."""
    board = ".".join(str(config.get("micropython", "")).split(".")[:2])
    tool = mpy_cross_version()
    if board and tool and board != tool:
        return ("board %s runs MicroPython %s but mpy-cross is %s: the .mpy files may not import; "
                "flash MicroPython %s or use a matching mpy-cross" % (config.get("name"), board, tool, tool))
    return None


# MicroPython's native architectures, in the order of persistentcode.h's MP_NATIVE_ARCH_* enum.
MPY_ARCHES = ("none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp", "armv7emdp",
              "xtensa", "xtensawin", "rv32imc", "rv64imc")


def decode_mpy_abi(version, flags):
    """(arch name, "version.sub") from a .mpy header's version byte and feature byte
    (sys.implementation._mpy packs the same two bytes: version | flags << 8)."""
    arch = flags >> 2
    return (MPY_ARCHES[arch] if arch < len(MPY_ARCHES) else "arch%d" % arch), "%d.%d" % (version, flags & 3)


def mpy_file_abi(path):
    """(arch, abi) read from a .mpy file's header, or None when it is not a .mpy."""
    with open(path, "rb") as f:
        head = f.read(3)
    return decode_mpy_abi(head[1], head[2]) if len(head) == 3 and head[:1] == b"M" else None


def mpy_cross_abi():
    """"6.3" from `mpy-cross --version` ("... mpy-cross emitting mpy v6.3"), or None."""
    try:
        out = subprocess.run([paths.mpy_cross(), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return None
    return out.split("mpy v")[-1].strip() if "mpy v" in out else None


def choose_native_module(arch, abi, dist_dir=None):
    """(path, None) of the dist/*/verdant_nn.mpy whose header says arch and abi ("6.3"; None
    accepts any), else (None, why none fits). The header decides, not the folder's name."""
    dist_dir = dist_dir or paths.DIST_DIR
    seen = []
    for name in sorted(os.listdir(dist_dir)) if os.path.isdir(dist_dir) else ():
        path = os.path.join(dist_dir, name, NATIVE_MODULE)
        found = mpy_file_abi(path) if os.path.isfile(path) else None
        if found is None:
            continue
        if found[0] == arch and abi in (None, found[1]):
            return path, None
        seen.append("%s/%s is %s ABI %s" % (name, NATIVE_MODULE, found[0], found[1]))
    wanted = "%s ABI %s" % (arch, abi) if abi else arch
    if not seen:
        return None, "no native module built for %s (make natmod ARCH=%s MPY_DIR=...)" % (wanted, arch)
    return None, "no native module matches the board's %s (%s)" % (wanted, "; ".join(seen))


def board_mpy_abi(board_link):
    """(arch, abi) the board reports in sys.implementation._mpy, or None (older firmware)."""
    out = board_link.exec("import sys\nprint(getattr(sys.implementation, '_mpy', -1))").decode().split()
    value = int(out[-1]) if out and out[-1].lstrip("-").isdigit() else -1
    return decode_mpy_abi(value & 0xff, (value >> 8) & 0xff) if value >= 0 else None


def native_module_path(arch, dist_dir=None, abi=None):
    """The built native module for arch (and abi, when given) or None."""
    return choose_native_module(arch, abi, dist_dir)[0]


def plan_files(config, build_dir, main_py=None, dist_dir=None, board_abi=None, manifest_path=None):
    """{remote path: local path} of everything but the model, and notes for the report.
    board_abi: the board's .mpy ABI ("6.3") when known, else mpy-cross's."""
    arch = config["arch"]
    include_sim = config.get("port") == "unix"
    files, compile_notes = compile_device_code(arch, build_dir, include_sim, manifest_path)
    device_dir = os.path.dirname(os.path.abspath(manifest_path)) if manifest_path else paths.DEVICE_DIR
    for name in ENTRY_POINTS:
        files[name] = os.path.join(device_dir, name)
    if main_py:
        files["main.py"] = main_py
    for name in ENTRY_POINTS:
        if not os.path.exists(files[name]):
            raise VerdantError("deploy: firmware entry point %s is missing" % files[name])
    board_json = os.path.join(build_dir, "board.json")
    with open(board_json, "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    files["board.json"] = board_json
    notes = [note for note in (version_note(config),) if note] + compile_notes
    native, why = choose_native_module(arch, board_abi or mpy_cross_abi(), dist_dir)
    if native:
        files["lib/" + NATIVE_MODULE] = native
    else:
        notes.append(why + ": the firmware falls back to the viper/Python engine")
    return files, notes


# ---- the deploy itself ------------------------------------------------------------------

def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def check_board(board_link, config, tool_abi=None):
    """The board's (arch, .mpy ABI) checked against its config and what mpy-cross emits,
    before anything is copied. Returns them (None when the firmware does not say);
    raises VerdantError naming the mismatch."""
    found = board_mpy_abi(board_link)
    if found is None:
        return None
    arch, abi = found
    if arch != config["arch"]:
        raise VerdantError("deploy: board config %s is for arch %s but the board on this port reports %s; "
                           "pick the board config of this board (--board)" % (config["name"], config["arch"], arch))
    tool_abi = tool_abi or mpy_cross_abi()
    if tool_abi and abi != tool_abi:
        raise VerdantError("deploy: the board loads .mpy ABI %s but mpy-cross emits %s: flash the MicroPython "
                           "release mpy-cross matches (%s) or install the mpy-cross of the board's release"
                           % (abi, tool_abi, mpy_cross_version() or "?"))
    return found


def deploy(board, port, model_path, transport="mpremote", build_dir=None, reset=True, main_py=None,
           dist_dir=None, progress=None, baudrate=115200, manifest_path=None, clock=time.time,
           forget_learned=False, place=None):
    """Deploy to the board on `port`. Returns a DeployReport; raises VerdantError.

    progress(remote_path, bytes_done, bytes_total) is called while files are written;
    clock() gives the Unix time the board's RTC is set to; forget_learned: the board also
    forgets what its detectors learned (verdant_host.learned_forget), after the install;
    place: (latitude_deg, longitude_deg) written into the board config (the site's place for
    a model's sun gates), checked like the rest of it."""
    config = load_board_config(board)
    if place is not None:
        from verdant.board import BoardConfigError, load_board
        try:
            config = load_board(dict(config, latitude_deg=place[0], longitude_deg=place[1]),
                                source="--latitude/--longitude")
        except BoardConfigError as exc:
            raise VerdantError("deploy: %s" % exc)
    with open(model_path, "rb") as f:
        model_bytes = f.read()
    from verdant_host.model_choice import for_board  # a model the board's sensors can feed, or none
    model_bytes, model_note = for_board(model_bytes, os.path.basename(model_path), config)
    rules_only = None
    if model_bytes is None:
        rules_only = "deploy found no model for the sensors %s (%s asked for)" % (
            ", ".join(sorted(fitted_quantities(config))), os.path.basename(model_path))
    build_dir = build_dir or paths.build_dir("deploy", config["name"])
    os.makedirs(build_dir, exist_ok=True)
    report = DeployReport()
    if model_note:
        report.notes.append(model_note)
    if model_bytes is not None:
        from verdant.alerts import gates_note
        from verdant.engine.modelfile import parse
        place_set = config.get("latitude_deg") is not None
        note = gates_note(parse(model_bytes).meta.get("sun_gates"),
                          (config["latitude_deg"], config["longitude_deg"]) if place_set else None)
        if note:  # the model's sun gates: on the board's place, or said to fall back
            report.notes.append("model gates: " + note)
    # compiled before connecting: a board whose watchdog runs must not wait on mpy-cross
    files, notes = plan_files(config, build_dir, main_py, dist_dir, manifest_path=manifest_path)
    report.notes += notes

    with open_transport(transport, port, baudrate) as board_link:
        if config.get("watchdog_timeout_ms"):
            board_link.feed_watchdog(config["watchdog_timeout_ms"])
        check_board(board_link, config)
        if firmware_frozen(board_link):  # a custom build (docs/firmware.md): files would shadow it
            files = {p: local for p, local in files.items() if not deploy_slots.in_slot(p)}
            report.notes.append("the board's MicroPython has the Verdant firmware frozen in: no code copied "
                                "(main.py, boot.py, board.json and the model only)")
        if board_link.set_rtc(clock()):
            report.notes.append("board clock set to UTC")
        else:
            report.notes.append("the board has no RTC to set (virtual board: it keeps its simulated clock)")
        _install(board_link, files, model_bytes, report, progress, rules_only)
        if forget_learned:
            from verdant_host.learned_forget import forget_on_link
            had = forget_on_link(board_link, clock)
            report.notes.append("learned.bin replaced by a forgotten mark (the board had %s): the firmware learns "
                                "from scratch" % (" and ".join(had) or "none"))
        if reset:
            board_link.hard_reset()
    return report


_FROZEN_CHECK = """import sys
for _k in [k for k in sys.modules if k == 'verdant' or k.startswith('verdant.')]:
    del sys.modules[_k]
_p = sys.path[:]
sys.path[:] = ['.frozen']
try:
    import verdant.startup
    print('verdant: frozen')
except ImportError:
    print('verdant: files')
sys.path[:] = _p
"""


def firmware_frozen(board_link):
    """True when the board's MicroPython has the firmware frozen in (a custom build with
    device/manifest.py): then no code is copied, files on the board would shadow it."""
    return board_link.exec(_FROZEN_CHECK).decode().strip().endswith("verdant: frozen")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _install(link, files, model_bytes, report, progress, rules_only=None):
    """Slot files, then board.json and boot.py, then the model (or, rules_only, the note
    saying why there is none), then main.py (the switch), then cleanup; see deploy_slots."""
    firmware = {deploy_slots.in_slot(p): local for p, local in files.items() if deploy_slots.in_slot(p)}
    hashes = {rel: sha256_file(local) for rel, local in firmware.items()}
    slot = report.slot = deploy_slots.slot_name(hashes)
    old = deploy_slots.active_slot(link.read_text("main.py"))
    root = {name: _read(files[name]) for name in ("board.json", "boot.py")}
    main = deploy_slots.main_with_slot(_read(files["main.py"]), slot)
    model_hash = hashlib.sha256(model_bytes).hexdigest() if model_bytes is not None else None
    asked = ["%s/%s" % (slot, rel) for rel in firmware] + list(root) + ["main.py", MODEL_REMOTE, RULES_ONLY_REMOTE]
    if old != slot:
        asked += ["%s/%s" % (old, rel) for rel in firmware]
    remote = link.hashes(asked)
    made_dirs = set()

    def stage(target, data, digest, local_copy=None):
        """Write target's temporary file (or copy it on the board); returns the install entry."""
        if remote.get(target) == digest:
            report.unchanged.append(target)
            return None
        temp = target + ".tmp"
        _make_parents(link, target, made_dirs)
        if local_copy is not None:
            link.copy(local_copy, temp)
            report.copied.append(target)
        else:
            data = data if data is not None else _read(firmware[target[len(slot) + 1:]])
            link.write_file(temp, data, progress)
            report.sent.append(target)
            report.bytes_sent += len(data)
        return (temp, target, digest)

    def install(entries):
        entries = [e for e in entries if e]
        bad = link.install(entries)
        if bad:
            raise VerdantError("deploy: the board's copy of %s does not match what was sent (bytes lost on "
                               "the serial line?); the board still runs its previous firmware" % ", ".join(bad))

    # 1. the firmware folder: nothing runs from it until main.py points at it
    entries = []
    for rel in sorted(firmware):
        before = "%s/%s" % (old, rel)
        same_before = old != slot and remote.get(before) == hashes[rel]
        entries.append(stage("%s/%s" % (slot, rel), None, hashes[rel], before if same_before else None))
    install(entries)
    # 2. board config and boot.py (the old firmware reads board.json too: startup keeps a good copy)
    install([stage(name, data, hashlib.sha256(data).hexdigest()) for name, data in sorted(root.items())])
    # 3. the model, checked by the new firmware's parser before it replaces model.bin
    if model_bytes is not None and remote.get(MODEL_REMOTE) != model_hash:
        link.write_file(MODEL_STAGING, model_bytes, progress)
        report.bytes_sent += len(model_bytes)
        error = link.verify_model(MODEL_STAGING, slot)
        if error:
            link.remove(MODEL_STAGING)
            raise VerdantError("deploy: the board refused the model (%s); the previous model stays in use" % error)
        install([(MODEL_STAGING, MODEL_REMOTE, model_hash)])
        report.sent.append(MODEL_REMOTE)
        report.model_verified = True
    elif model_bytes is not None:
        report.unchanged.append(MODEL_REMOTE)
    if rules_only is not None:
        note = rules_only.encode()
        install([stage(RULES_ONLY_REMOTE, note, hashlib.sha256(note).hexdigest())])
    elif remote.get(RULES_ONLY_REMOTE):
        link.remove(RULES_ONLY_REMOTE)
        report.removed.append(RULES_ONLY_REMOTE)
    # 4. main.py last: the switch to the new firmware folder
    install([stage("main.py", main, hashlib.sha256(main).hexdigest())])
    # 5. what the running firmware no longer uses
    for path in _stale(link, slot, set(firmware)):
        link.remove_tree(path)
        report.removed.append(path)


def _stale(link, slot, planned):
    """Other firmware folders, firmware from before folders, files in the folder not planned."""
    stale = []
    for entry in link.list_dir(deploy_slots.SLOT_ROOT):
        path = "%s/%s" % (deploy_slots.SLOT_ROOT, entry)
        if path != slot:
            stale.append(path)
    for entry in link.list_dir(deploy_slots.LEGACY_SLOT):
        if entry in ("verdant", NATIVE_MODULE):
            stale.append("%s/%s" % (deploy_slots.LEGACY_SLOT, entry))
    for path in link.list_files(slot):
        if path[len(slot) + 1:] not in planned:
            stale.append(path)
    return sorted(stale)


def _make_parents(board_link, remote, made_dirs):
    parts = remote.split("/")[:-1]
    for i in range(1, len(parts) + 1):
        folder = "/".join(parts[:i])
        if folder not in made_dirs:
            board_link.mkdir(folder)
            made_dirs.add(folder)
