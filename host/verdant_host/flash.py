"""Flash MicroPython firmware onto a board: esptool for ESP32 / ESP32-C3, UF2 copy to the
bootloader drive (or picotool) for the Raspberry Pi Pico family.

Before touching the board the file is checked against the chip: an ESP image must start
with 0xE9 and carry the chip id in its extended header; a UF2 file's blocks must carry
the chip's family id. The board must be in its bootloader (ESP: the ROM loader answers
esptool; Pico: the RPI-RP2 / RP2350 drive is mounted).

Example:
    flash_firmware(load_board_config("esp32_devkitc"), "/dev/ttyUSB0", "ESP32_GENERIC.bin")
    flash_firmware(load_board_config("pico"), None, "RPI_PICO.uf2")   # finds the drive
"""
import glob
import os
import shutil
import struct
import subprocess

from verdant_host.errors import VerdantError

# chip -> (esptool --chip, flash offset, image chip id in the extended header)
ESP_CHIPS = {"esp32": ("esp32", 0x1000, 0x0000), "esp32c3": ("esp32c3", 0x0, 0x0005)}
ESP_CHIP_NAMES = {0x0000: "ESP32", 0x0002: "ESP32-S2", 0x0005: "ESP32-C3", 0x0009: "ESP32-S3",
                  0x000C: "ESP32-C2", 0x000D: "ESP32-C6", 0x0010: "ESP32-H2"}
ESP_IMAGE_MAGIC = 0xE9

UF2_MAGIC0, UF2_MAGIC1, UF2_MAGIC_END = 0x0A324655, 0x9E5D5157, 0x0AB16F30
UF2_FLAG_FAMILY = 0x00002000
UF2_FAMILIES = {0xE48BFF56: "rp2040", 0xE48BFF59: "rp2350", 0xE48BFF5A: "rp2350-riscv",
                0xE48BFF5B: "rp2350", 0xE48BFF57: "absolute", 0xE48BFF58: "data"}
# families a chip accepts (RP2350 images start with an "absolute" block for erratum E10)
UF2_ACCEPTS = {"rp2040": {"rp2040"}, "rp2350": {"rp2350", "rp2350-riscv", "absolute", "data"}}
BOOT_DRIVES = {"rp2040": "RPI-RP2", "rp2350": "RP2350"}


def board_chip(config):
    """The chip of a board config: esp32 / esp32c3 / rp2040 / rp2350."""
    arch, port = config.get("arch"), config.get("port")
    if port == "esp32":
        return "esp32c3" if arch == "rv32imc" else "esp32"
    if port == "rp2":
        return "rp2350" if arch == "armv7emsp" else "rp2040"
    raise VerdantError("flash: board %s (port %s) has no firmware to flash; the virtual board needs none"
                       % (config.get("name"), port))


# ---- ESP32 ------------------------------------------------------------------------------

def check_esp_image(data, chip):
    """Raise VerdantError unless data is an ESP firmware image for chip."""
    if len(data) < 24 or data[0] != ESP_IMAGE_MAGIC:
        raise VerdantError("flash: not an ESP firmware image (first byte 0x%02x, expected 0xe9); "
                           "use the .bin from micropython.org for %s" % (data[0] if data else 0, chip.upper()))
    chip_id = struct.unpack_from("<H", data, 12)[0]
    expected = ESP_CHIPS[chip][2]
    if chip_id != expected:
        raise VerdantError("flash: the image is built for %s but the board is %s; download the %s firmware"
                           % (ESP_CHIP_NAMES.get(chip_id, "chip id 0x%04x" % chip_id),
                              ESP_CHIP_NAMES[expected], ESP_CHIP_NAMES[expected]))


def _run_esptool(argv):
    import esptool
    esptool.main(argv)


def flash_esp(chip, port, firmware, run_esptool=_run_esptool, baud=460800):
    """Erase, write at the chip's offset, verify. Returns the esptool argument lists run."""
    if not port:
        raise VerdantError("flash: ESP boards need --port (PORT=/dev/ttyUSB0)")
    with open(firmware, "rb") as f:
        check_esp_image(f.read(64), chip)
    name, offset, _ = ESP_CHIPS[chip]
    base = ["--chip", name, "--port", port, "--baud", str(baud)]
    steps = [base + ["erase-flash"],
             base + ["write-flash", "0x%x" % offset, firmware],
             base + ["verify-flash", "0x%x" % offset, firmware]]
    for argv in steps:
        try:
            run_esptool(argv)
        except SystemExit as exc:  # esptool's CLI exits on usage errors
            if exc.code:
                raise VerdantError("flash: esptool %s failed (exit %s)" % (argv[6], exc.code))
        except Exception as exc:  # esptool.FatalError and serial errors
            text = str(exc)
            if "Failed to connect" in text or "No serial data" in text or "Wrong boot mode" in text:
                raise VerdantError("flash: the board on %s is not in bootloader mode (%s); hold BOOT, "
                                   "press EN/RESET, release BOOT, then retry" % (port, text.strip().splitlines()[0]))
            if "This chip is" in text or "Unexpected chip" in text:
                raise VerdantError("flash: wrong chip on %s: %s" % (port, text.strip().splitlines()[0]))
            raise VerdantError("flash: esptool %s failed: %s" % (argv[6], text.strip()))
    return steps


# ---- Raspberry Pi Pico (UF2) -------------------------------------------------------------

def uf2_families(data):
    """{family name: block count} of a UF2 file; raises VerdantError on a malformed file."""
    if not data or len(data) % 512:
        raise VerdantError("flash: not a UF2 file (size %d is not a multiple of 512 bytes)" % len(data))
    families = {}
    for offset in range(0, len(data), 512):
        magic0, magic1, flags = struct.unpack_from("<III", data, offset)
        (end,) = struct.unpack_from("<I", data, offset + 508)
        if magic0 != UF2_MAGIC0 or magic1 != UF2_MAGIC1 or end != UF2_MAGIC_END:
            raise VerdantError("flash: not a UF2 file (bad magic in block %d)" % (offset // 512))
        family = struct.unpack_from("<I", data, offset + 28)[0] if flags & UF2_FLAG_FAMILY else None
        name = UF2_FAMILIES.get(family, "unknown 0x%08x" % family if family is not None else "no family id")
        families[name] = families.get(name, 0) + 1
    return families


def check_uf2(data, chip):
    families = uf2_families(data)
    foreign = [f for f in families if f not in UF2_ACCEPTS[chip]]
    if foreign or not any(f in families for f in (chip, chip + "-riscv")):
        raise VerdantError("flash: the UF2 file is for %s, but the board is %s; download the %s firmware"
                           % (", ".join(sorted(families)), chip.upper(), chip.upper()))
    return families


def find_boot_drive(chip, roots=("/media/*/*", "/run/media/*/*", "/media/*", "/mnt/*", "/Volumes/*")):
    """The mounted bootloader drive of chip (has INFO_UF2.TXT naming the board id), or None."""
    wanted = BOOT_DRIVES[chip]
    for pattern in roots:
        for path in sorted(glob.glob(pattern)):
            info = os.path.join(path, "INFO_UF2.TXT")
            if os.path.isfile(info):
                with open(info, errors="replace") as f:
                    if "Board-ID: %s" % wanted in f.read():
                        return path
    return None


def flash_uf2(chip, firmware, drive=None, picotool=None, roots=None):
    """Copy the UF2 to the chip's bootloader drive (or load it with picotool). Returns how."""
    with open(firmware, "rb") as f:
        check_uf2(f.read(), chip)
    if drive:
        info = os.path.join(drive, "INFO_UF2.TXT")
        if not os.path.isfile(info):
            raise VerdantError("flash: %s is not a UF2 bootloader drive (no INFO_UF2.TXT)" % drive)
        with open(info, errors="replace") as f:
            if "Board-ID: %s" % BOOT_DRIVES[chip] not in f.read():
                raise VerdantError("flash: %s is not the %s bootloader drive" % (drive, BOOT_DRIVES[chip]))
    else:
        drive = find_boot_drive(chip, roots) if roots else find_boot_drive(chip)
    if drive:
        target = os.path.join(drive, os.path.basename(firmware))
        shutil.copyfile(firmware, target)
        return "copied to %s" % target
    picotool = picotool if picotool is not None else shutil.which("picotool")
    if picotool:
        result = subprocess.run([picotool, "load", "-x", firmware], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise VerdantError("flash: picotool could not load the firmware (%s); hold BOOTSEL while "
                               "plugging the board in, then retry" % result.stderr.strip())
        return "loaded with picotool"
    raise VerdantError("flash: no %s drive mounted: the board is not in bootloader mode; hold BOOTSEL while "
                       "plugging it in (or pass --drive PATH)" % BOOT_DRIVES[chip])


def flash_firmware(config, port, firmware, drive=None, **fakes):
    """Flash firmware for the board config; returns a one-line description of what was done."""
    if not firmware or not os.path.isfile(firmware):
        raise VerdantError("flash: firmware file %r not found; pass FIRMWARE=path" % firmware)
    chip = board_chip(config)
    if chip.startswith("esp32"):
        flash_esp(chip, port, firmware, **fakes)
        return "flashed %s at 0x%x on %s and verified" % (os.path.basename(firmware), ESP_CHIPS[chip][1], port)
    return flash_uf2(chip, firmware, drive=drive, **fakes)
