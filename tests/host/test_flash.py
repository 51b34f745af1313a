"""Firmware flashing with fakes: no hardware, but real file checks and esptool arguments."""
import struct

import pytest

from verdant_host.deploy import load_board_config
from verdant_host.errors import VerdantError
from verdant_host.flash import (UF2_FLAG_FAMILY, UF2_MAGIC0, UF2_MAGIC1, UF2_MAGIC_END, board_chip,
                                flash_firmware)

RP2040, RP2350_ARM, ABSOLUTE = 0xE48BFF56, 0xE48BFF59, 0xE48BFF57


def esp_image(chip_id):
    header = bytes([0xE9, 3, 2, 0x20]) + struct.pack("<I", 0x40080000)      # common header
    extended = bytes([0xEE, 0, 0, 0]) + struct.pack("<H", chip_id) + bytes(10)  # chip id at file offset 12
    return header + extended + bytes(1000)


def uf2(families):
    blocks = []
    for n, family in enumerate(families):
        head = struct.pack("<IIIIIIII", UF2_MAGIC0, UF2_MAGIC1, UF2_FLAG_FAMILY, 0x10000000 + 256 * n, 256, n,
                           len(families), family)
        blocks.append(head + bytes(476) + struct.pack("<I", UF2_MAGIC_END))
    return b"".join(blocks)


class FakeEsptool:
    def __init__(self, error=None):
        self.calls, self.error = [], error

    def __call__(self, argv):
        self.calls.append(argv)
        if self.error:
            raise Exception(self.error)


@pytest.mark.parametrize("board, chip_id, offset", [("esp32_devkitc", 0x0000, "0x1000"), ("esp32c3", 0x0005, "0x0")])
def test_esp_erase_write_at_the_chip_offset_and_verify(tmp_path, board, chip_id, offset):
    image = tmp_path / "fw.bin"
    image.write_bytes(esp_image(chip_id))
    fake = FakeEsptool()
    flash_firmware(load_board_config(board), "/dev/ttyUSB9", str(image), run_esptool=fake)
    commands = [argv[6:] for argv in fake.calls]
    assert commands == [["erase-flash"], ["write-flash", offset, str(image)], ["verify-flash", offset, str(image)]]
    assert all(argv[:4] == ["--chip", board_chip(load_board_config(board)), "--port", "/dev/ttyUSB9"]
               for argv in fake.calls)


def test_esp_image_for_another_chip_is_refused_before_flashing(tmp_path):
    image = tmp_path / "fw.bin"
    image.write_bytes(esp_image(0x0005))  # an ESP32-C3 build
    fake = FakeEsptool()
    with pytest.raises(VerdantError, match="built for ESP32-C3 but the board is ESP32"):
        flash_firmware(load_board_config("esp32_devkitc"), "/dev/ttyUSB9", str(image), run_esptool=fake)
    assert fake.calls == []
    image.write_bytes(uf2([RP2040]))
    with pytest.raises(VerdantError, match="not an ESP firmware image"):
        flash_firmware(load_board_config("esp32_devkitc"), "/dev/ttyUSB9", str(image), run_esptool=fake)


def test_esp_not_in_bootloader_mode_says_how_to_enter_it(tmp_path):
    image = tmp_path / "fw.bin"
    image.write_bytes(esp_image(0))
    fake = FakeEsptool("Failed to connect to ESP32: No serial data received.")
    with pytest.raises(VerdantError, match="not in bootloader mode.*hold BOOT"):
        flash_firmware(load_board_config("esp32_devkitc"), "/dev/ttyUSB9", str(image), run_esptool=fake)
    assert len(fake.calls) == 1  # stopped at the erase


def _boot_drive(tmp_path, board_id):
    drive = tmp_path / "media" / "user" / board_id
    drive.mkdir(parents=True)
    (drive / "INFO_UF2.TXT").write_text("UF2 Bootloader v3.0\nModel: Raspberry Pi\nBoard-ID: %s\n" % board_id)
    return drive


def test_uf2_copied_to_the_matching_bootloader_drive(tmp_path):
    other = _boot_drive(tmp_path, "RP2350")
    pico = _boot_drive(tmp_path, "RPI-RP2")
    fw = tmp_path / "pico.uf2"
    fw.write_bytes(uf2([RP2040] * 3))
    how = flash_firmware(load_board_config("pico"), None, str(fw), roots=(str(tmp_path / "media" / "*" / "*"),))
    assert (pico / "pico.uf2").read_bytes() == fw.read_bytes()
    assert not (other / "pico.uf2").exists() and "copied" in how
    fw2 = tmp_path / "pico2.uf2"
    fw2.write_bytes(uf2([ABSOLUTE, RP2350_ARM, RP2350_ARM]))
    flash_firmware(load_board_config("pico2"), None, str(fw2), drive=str(other))
    assert (other / "pico2.uf2").read_bytes() == fw2.read_bytes()


def test_uf2_for_the_wrong_chip_is_refused(tmp_path):
    drive = _boot_drive(tmp_path, "RPI-RP2")
    fw = tmp_path / "rp2350.uf2"
    fw.write_bytes(uf2([ABSOLUTE, RP2350_ARM]))
    with pytest.raises(VerdantError, match="UF2 file is for absolute, rp2350, but the board is RP2040"):
        flash_firmware(load_board_config("pico"), None, str(fw), drive=str(drive))
    assert list(drive.iterdir()) == [drive / "INFO_UF2.TXT"]
    fw.write_bytes(uf2([RP2040])[:-1])
    with pytest.raises(VerdantError, match="not a UF2 file"):
        flash_firmware(load_board_config("pico"), None, str(fw), drive=str(drive))


def test_pico_not_in_bootloader_mode_without_picotool(tmp_path):
    fw = tmp_path / "pico.uf2"
    fw.write_bytes(uf2([RP2040]))
    with pytest.raises(VerdantError, match="no RPI-RP2 drive mounted.*BOOTSEL"):
        flash_firmware(load_board_config("pico_w"), None, str(fw), picotool="", roots=(str(tmp_path / "none*"),))


def test_picotool_used_when_no_drive_is_mounted(tmp_path):
    fw = tmp_path / "pico.uf2"
    fw.write_bytes(uf2([RP2040]))
    log = tmp_path / "picotool.log"
    fake = tmp_path / "picotool"
    fake.write_text("#!/bin/sh\necho \"$@\" > %s\n" % log)
    fake.chmod(0o755)
    how = flash_firmware(load_board_config("pico"), None, str(fw), picotool=str(fake), roots=(str(tmp_path / "none*"),))
    assert how == "loaded with picotool"
    assert log.read_text().split() == ["load", "-x", str(fw)]


def test_the_virtual_board_has_nothing_to_flash(tmp_path):
    fw = tmp_path / "x.bin"
    fw.write_bytes(b"x")
    with pytest.raises(VerdantError, match="virtual board needs none"):
        flash_firmware(load_board_config("sim"), None, str(fw))
