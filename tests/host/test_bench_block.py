"""make bench rewrites only its marked block of BENCHMARKS.md: other sections stay."""
import pytest

from verdant_host.bench import BEGIN, END, write_block


def test_bench_rewrites_only_its_block(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nintro\n%s\nold figures\n%s\n\n## MQTT\n\nmqtt figures\n" % (BEGIN, END))
    write_block(str(path), ["new figures", "| a | b |"])
    text = path.read_text()
    assert "old figures" not in text
    assert text.index("intro") < text.index("new figures") < text.index(END) < text.index("mqtt figures")


def test_a_file_without_the_markers_is_not_overwritten(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nsomeone's section\n")
    with pytest.raises(RuntimeError, match="no block marked"):
        write_block(str(path), ["x"])
    assert path.read_text() == "# Benchmarks\n\nsomeone's section\n"


def test_energy_per_sample_arithmetic():
    # Pico: 10 M instructions x 1.5 / 125 MHz = 120 ms CPU, + 100 ms waits + 20 ms bus = 240 ms awake;
    # 5 V x (25 mA x 0.24 s + 1.5 mA x 899.76 s) = 6778.2 mJ; 3 AA: 2500 mAh x 4.5 V = 40.5 kJ
    # over 96 samples a day -> 62.2 days.
    from verdant_host.bench_energy import energy_rows
    pico = energy_rows({"instructions": 10e6, "wait_ms": 100.0, "bus_ms": 20.0})[0]
    assert pico["board"].startswith("Pico")
    assert abs(pico["cpu_ms"] - 120.0) < 1e-6 and abs(pico["awake_ms"] - 240.0) < 1e-6
    assert abs(pico["mj"] - 6778.2) < 1e-6
    assert abs(pico["days"][0][1] - 40.5e6 / (6778.2 * 96)) < 1e-6 and round(pico["days"][0][1], 1) == 62.2
