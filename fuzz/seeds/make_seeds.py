#!/usr/bin/env python3
"""Writes seed inputs for the fuzz targets (valid model files, checkpoint modes,
training runs), so the fuzzer starts past the checksums. Run from fuzz/."""
import os
import struct
import zlib

here = os.path.dirname(os.path.abspath(__file__))


def model_file(layers, params):
    body = b"MTRN" + struct.pack("<HHI", 1, len(layers), len(params))
    for i, o, act in layers:
        body += struct.pack("<IIB3x", i, o, act)
    body += b"".join(struct.pack("<f", v) for v in params)
    return body + struct.pack("<I", zlib.crc32(body))


def write(target, name, data):
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data)


shapes = {
    "xor": [(2, 4, 2), (4, 1, 1)],
    "iris": [(4, 8, 3), (8, 3, 0)],
    "one": [(1, 1, 0)],
}
for name, layers in shapes.items():
    n = sum(o * i + o for i, o, _ in layers)
    f = model_file(layers, [0.25 * k - 1.0 for k in range(n)])
    write("model_file", name + "-plain", b"\x00" + f)
    write("model_file", name + "-fixcrc", b"\x01" + f)

# Checkpoint loader: the valid two-checkpoint image, untouched / patched / with CRC fix-up.
write("checkpoint_restore", "valid", b"\x01")
write("checkpoint_restore", "valid-fixup", b"\x03")
write("checkpoint_restore", "patch-seq", b"\x03" + struct.pack("<HB", 12, 9))
write("checkpoint_restore", "patch-param", b"\x03" + struct.pack("<HB", 100, 0xFF))
write("checkpoint_restore", "erased", b"\x00")

# Training: loss, hidden act, last act, optimizer kind, then defaults (even bytes) and
# a few samples.
for kind in range(7):
    sample = b"".join(struct.pack("<f", v) for v in (0.5, -0.25, 1.0)) + b"\x00\x00\x00"
    write("train_step", f"opt{kind}", bytes([0, 2, 0, kind]) + b"\x00" * 12 + sample * 4)
