"""Shared fixtures of the tools' tests: paths, the simulator binary, the recorded export fixture."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

TOOLS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TOOLS)
FIXTURE = os.path.join(TOOLS, "tests", "fixtures", "export")
sys.path.insert(0, TOOLS)


@pytest.fixture(scope="session")
def sim() -> str:
    """The microtrain-sim binary: $MICROTRAIN_SIM, else target/release/microtrain-sim
    (scripts/test-python-tools builds it first). Missing is a failure, not a skip."""
    path = os.environ.get("MICROTRAIN_SIM", os.path.join(ROOT, "target", "release", "microtrain-sim"))
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path}: no microtrain-sim binary (cargo build --release -p microtrain-sim, "
                    "or set MICROTRAIN_SIM)")
    return path


def write_csv(path: str, x: np.ndarray) -> None:
    """x as a CSV with a header, each float32 in the shortest decimal that reads back to it."""
    with open(path, "w") as f:
        f.write(",".join(f"x{i}" for i in range(x.shape[1])) + "\n")
        for row in x:
            f.write(",".join(np.format_float_positional(v, unique=True) for v in row) + "\n")


def predict(sim: str, model: str, x: np.ndarray, tmp: str) -> np.ndarray:
    """`microtrain-sim predict` on the rows of x: the outputs it prints as exact bits."""
    csv = os.path.join(tmp, "batch.csv")
    write_csv(csv, x)
    run = subprocess.run([sim, "predict", "--model", model, "--data", csv], capture_output=True, text=True)
    assert run.returncode == 0, f"microtrain-sim predict {model}: exit {run.returncode}: {run.stderr}"
    rows = []
    for line in run.stdout.splitlines():
        if line.startswith("line "):
            bits = line.split("bits [", 1)[1].split("]", 1)[0].split(", ")
            rows.append([int(b, 16) for b in bits])
    out = np.array(rows, dtype=np.uint32).view(np.float32)
    assert out.shape[0] == x.shape[0], f"predict printed {out.shape[0]} rows for {x.shape[0]}:\n{run.stdout}"
    return out
