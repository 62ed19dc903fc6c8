#!/usr/bin/env python3
"""Record many random conformance cases with PyTorch, to stress the engine beyond the
recorded set.

Usage:

    python3 tools/sweep_cases.py --seed 1 --count 60 --out /tmp/sweep
    cargo run --release -p microtrain-sim -- conformance /tmp/sweep

Each case draws, from the seed: a loss; 1 to 3 layers of widths 1 to 9 with random
activations (the last one as the loss needs: sigmoid for binary cross-entropy,
identity for softmax cross-entropy, any for MSE); an optimizer with random
hyperparameters (momentum, dampening, Nesterov, centered, AMSGrad, betas, lr_decay,
initial accumulator, rho, eps, weight decay, each only where the optimizer has it); a
schedule; 1 to 30 synthetic rows, a batch size (1 up to more than the rows) and 1 to 5
epochs. It is recorded by tools/record_case.py (float32, CPU), so it needs torch.

A case that fails is not always a bug: with a large learning rate and saturated
sigmoids, training can be chaotic, so that rounding differences of one ulp grow past
the tolerance. `--replay` of record_case.py on a copy of the case with one initial
weight moved by one ulp shows it (PyTorch against itself).
"""

import argparse
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu"]
LAST = {"binary_cross_entropy": "sigmoid", "softmax_cross_entropy": "identity"}
LRS = {
    "sgd": [0.01, 0.1, 0.5],
    "adagrad": [0.01, 0.1],
    "adadelta": [0.5, 1.0, 2.0],
    "rmsprop": [0.001, 0.01],
    "adam": [0.001, 0.01, 0.05],
    "adamw": [0.001, 0.01, 0.05],
    "radam": [0.001, 0.01, 0.05],
}


def optimizer_args(rng, opt):
    """record_case.py options for a random configuration of `opt`."""
    args = ["--optimizer", opt, "--lr", str(rng.choice(LRS[opt]))]
    wd = rng.choice([0, 0, 0.001, 0.01, 0.1])
    if wd:
        args += ["--weight-decay", str(wd)]
    if opt == "sgd":
        momentum = rng.choice([0, 0, 0.5, 0.9])
        if momentum:
            args += ["--momentum", str(momentum)]
            if rng.random() < 0.4:
                args.append("--nesterov")
            elif rng.random() < 0.5:
                args += ["--dampening", str(rng.choice([0.1, 0.5]))]
    if opt == "rmsprop":
        if rng.random() < 0.5:
            args += ["--momentum", str(rng.choice([0.5, 0.9]))]
        if rng.random() < 0.5:
            args.append("--centered")
        if rng.random() < 0.5:
            args += ["--alpha", str(rng.choice([0.9, 0.95]))]
    if opt in ("adam", "adamw") and rng.random() < 0.4:
        args.append("--amsgrad")
    if opt in ("adam", "adamw", "radam") and rng.random() < 0.5:
        args += ["--beta1", str(rng.choice([0.5, 0.8, 0.95])), "--beta2", str(rng.choice([0.9, 0.99, 0.9999]))]
    if opt == "adagrad":
        if rng.random() < 0.5:
            args += ["--lr-decay", str(rng.choice([0.01, 0.1]))]
        if rng.random() < 0.5:
            args += ["--initial-accumulator-value", str(rng.choice([0.1, 1.0]))]
    if opt == "adadelta" and rng.random() < 0.5:
        args += ["--rho", str(rng.choice([0.8, 0.95]))]
    if opt != "sgd" and rng.random() < 0.5:
        args += ["--eps", str(rng.choice([1e-10, 1e-6, 1e-3]))]
    return args


def schedule_args(rng):
    name = rng.choice(["constant", "constant", "exponential", "step", "inverse_time"])
    args = ["--schedule", name]
    if name == "exponential":
        args += ["--gamma", str(rng.choice([0.9, 0.99]))]
    if name == "step":
        args += ["--step-size", str(rng.randint(1, 6)), "--gamma", str(rng.choice([0.5, 0.9]))]
    if name == "inverse_time":
        args += ["--decay", str(rng.choice([0.01, 0.2]))]
    return args


def case_args(rng, name, out):
    """The full record_case.py command line of one random case."""
    loss = rng.choice(["mse", "binary_cross_entropy", "softmax_cross_entropy"])
    depth = rng.choice([1, 2, 2, 3])
    widths = [rng.randint(1, 6)] + [rng.randint(1, 9) for _ in range(depth - 1)] + [rng.randint(1, 4)]
    if loss == "softmax_cross_entropy":
        widths[-1] = max(2, widths[-1])
    acts = [rng.choice(ACTIVATIONS) for _ in range(depth - 1)] + [LAST.get(loss, rng.choice(ACTIVATIONS))]
    rows = rng.randint(1, 30)
    batch = rng.choice([1, 2, 3, 5, 8, rows, rows + 3])
    return (
        ["--name", name, "--layers", "-".join(map(str, widths)), "--activations", ",".join(acts), "--loss", loss]
        + optimizer_args(rng, rng.choice(sorted(LRS)))
        + schedule_args(rng)
        + ["--data", "synthetic", "--rows", str(rows), "--batch-size", str(batch),
           "--epochs", str(rng.randint(1, 5)), "--seed", str(rng.randint(0, 10**6)), "--out", out, "--force"]
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, required=True, help="seeds every draw")
    p.add_argument("--count", type=int, required=True, help="how many cases")
    p.add_argument("--out", required=True, help="directory for the cases (created)")
    args = p.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)
    failed = 0
    for i in range(args.count):
        name = f"sweep{args.seed}_{i}"
        cmd = [sys.executable, os.path.join(HERE, "record_case.py")]
        cmd += case_args(rng, name, os.path.join(args.out, name + ".json"))
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode:
            failed += 1
            print(f"{name}: record_case.py failed: {r.stderr.strip()}", file=sys.stderr)
    print(f"{args.count - failed} cases recorded into {args.out}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
