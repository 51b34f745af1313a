"""atheris harness for the Python model parser: only ModelError may escape.

    python tests/host/fuzz_engine_parser.py -runs=3000 [corpus_dir]

Inputs get their CRC fixed so they reach the structural checks, except when byte
63 (reserved, 0 in valid files) is 0xEE: those are parsed exactly as given. Files that parse also get their LOGISTIC/SOFTMAX
tables built (what load does before running). `--write-seeds DIR` writes valid
model files to start a corpus from.
"""
import os
import struct
import sys

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "device"))
sys.path.insert(0, os.path.join(REPO, "tests", "device"))

with atheris.instrument_imports():
    from verdant.engine import fixedpoint, modelfile, ops_python  # noqa: F401
    from verdant.engine.modelfile import ModelError, crc32, parse
    from verdant.engine.ops_python import PythonLayers


def with_fixed_crc(data):
    buf = bytearray(data)
    struct.pack_into("<I", buf, 12, crc32(bytes(buf[16:])))
    return bytes(buf)


def test_one_input(data):
    if len(data) >= 16 and not (len(data) > 63 and data[63] == 0xEE):
        data = with_fixed_crc(data)
    try:
        model = parse(data)
    except ModelError:
        return
    PythonLayers(model)


def write_seeds(directory):
    import engine_models as em
    os.makedirs(directory, exist_ok=True)
    conv = em.layer(2, (4, 5, 2), (4, 5, 3), weights=bytes(range(54)), kernel=(3, 3), stride=(1, 1),
                    dilation=(1, 1), pad=(1, 1), bias=[1, 2, 3], multipliers=[1 << 30] * 3, shifts=[-2] * 3)
    pool = em.layer(4, (4, 5, 3), (2, 3, 3), kernel=(2, 2), stride=(2, 2), dilation=(1, 1))
    fc = em.layer(1, (1, 1, 18), (1, 1, 4), weights=bytes(72), multipliers=[1 << 30] * 4, shifts=[-3] * 4)
    logistic = em.layer(6, (1, 1, 4), (1, 1, 4), out_zp=-128, params=(1 << 30, 24, 120))
    soft = em.layer(7, (1, 1, 4), (1, 1, 4), in_zp=-128, out_zp=-128, params=(1 << 30, 27, -15))
    mean = em.layer(5, (2, 3, 2), (1, 1, 2), multipliers=[1 << 29], shifts=[-1])
    seeds = {
        "chain": em.build([conv, pool, fc, logistic, soft], meta=b'{"labels": ["a", "b", "c", "d"]}'),
        "fc": em.fc_model(),
        "mean": em.build([mean]),
    }
    for name, buf in seeds.items():
        with open(os.path.join(directory, name + ".bin"), "wb") as f:
            f.write(bytes(buf))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--write-seeds":
        write_seeds(sys.argv[2])
        return
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
