"""The recorded frozen and bias-only conformance cases (tests/conformance/cases-frozen),
checked without PyTorch: the fields are there and well formed, and the recorded run
froze exactly what they say (frozen values bit-identical from init to final, trainable
ones moved). And record_case.py's new options are checked before torch is imported."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, TOOLS

CASES = sorted(glob.glob(os.path.join(ROOT, "tests", "conformance", "cases-frozen", "*.json")))
OPTIMIZERS = {"sgd", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "radam"}


def load(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def test_the_set_covers_every_optimizer_with_weight_decay_on_a_partly_frozen_net():
    assert len(CASES) >= 15
    cases = [load(p) for p in CASES]
    partly_frozen = {c["optimizer"]["name"] for c in cases
                     if c["frozen_layers"] and c["optimizer"]["weight_decay"] > 0 and len(c["model"]) >= 3}
    assert partly_frozen == OPTIMIZERS
    momentum = [c for c in cases if c["optimizer"]["name"] == "sgd" and c["optimizer"]["momentum"] > 0
                and c["frozen_layers"]]
    assert momentum, "no SGD-with-momentum case on a frozen net"
    last_only = [c for c in cases if c["frozen_layers"] == list(range(len(c["model"]) - 1))]
    assert len(last_only) >= 2
    bias_only = [c for c in cases if c["bias_only_layers"]]
    assert len(bias_only) >= 3
    assert any(c["bias_only_layers"] == list(range(len(c["model"]))) for c in bias_only)


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p) for p in CASES])
def test_frozen_parameters_kept_their_bits_and_trainable_ones_moved(path):
    case = load(path)
    name = os.path.basename(path)
    layers = len(case["model"])
    frozen, bias_only = case["frozen_layers"], case["bias_only_layers"]
    for key, indices in (("frozen_layers", frozen), ("bias_only_layers", bias_only)):
        assert indices == sorted(set(indices)) and all(0 <= i < layers for i in indices), f"{name}: {key}"
    assert not set(frozen) & set(bias_only), f"{name}: a layer both frozen and bias-only"
    assert case["name"] == name[:-5]
    for i, (init, final) in enumerate(zip(case["init"], case["expected"]["final"])):
        for part in ("weight", "bias"):
            fixed = i in frozen or (i in bias_only and part == "weight")
            same = init[part] == final[part]
            if fixed:
                assert same, f"{name}: layer {i} {part} is frozen but changed"
            else:
                assert not same, f"{name}: layer {i} {part} trains but did not change"


def run_recorder(*args: str) -> subprocess.CompletedProcess:
    base = ["--name", "x", "--layers", "4-5-3", "--activations", "relu,identity", "--loss",
            "softmax_cross_entropy", "--optimizer", "adam", "--batch-size", "2", "--epochs", "1", "--seed", "1",
            "--data", "synthetic", "--rows", "4"]
    return subprocess.run([sys.executable, os.path.join(TOOLS, "record_case.py"), *base, *args],
                          capture_output=True, text=True)


@pytest.mark.parametrize("args, message", [
    (("--frozen-layers", "2"), "--frozen-layers: layer 2 does not exist (the model has layers 0 to 1)"),
    (("--frozen-layers", "0,1"), "--frozen-layers: every layer is frozen, nothing would train"),
    (("--bias-only-layers", "a"), "--bias-only-layers 'a': expected layer indices like 0,2"),
    (("--bias-only-layers", "1,1"), "--bias-only-layers '1,1': a layer is named twice"),
    (("--frozen-layers", "0", "--bias-only-layers", "0"), "--frozen-layers and --bias-only-layers both name layer 0"),
])
def test_record_case_refuses_bad_freezing_before_importing_torch(args, message):
    run = run_recorder(*args)
    assert run.returncode == 2 and message in run.stderr, run.stderr
