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
