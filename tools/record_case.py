#!/usr/bin/env python3
"""Record a microtrain conformance case with PyTorch.

Trains a small MLP with torch.optim exactly as tests/conformance/FORMAT.md describes
(float32 on the CPU, foreach=False, the scheduled learning rate written to
param_group['lr'] before every step, each batch's loss recorded before its update,
consecutive batches without shuffling) and writes the case as JSON, with every
hyperparameter spelled out.

Usage:

    python3 tools/record_case.py --name NAME \\
        --layers 4-8-3 --activations tanh,identity \\
        --loss softmax_cross_entropy \\
        --optimizer adam --lr 0.01 [--beta1 0.9 --beta2 0.999 --eps 1e-8 ...] \\
        [--schedule exponential --gamma 0.95] \\
        --batch-size 16 --epochs 3 --seed 7 \\
        --data iris [--standardize] [--permute] \\
        --out tests/conformance/cases/NAME.json

    python3 tools/record_case.py --name sgd_mlp_relu_mse --layers 3-5-2 \\
        --activations relu,identity --loss mse --optimizer sgd --lr 0.05 \\
        --momentum 0.9 --nesterov --data synthetic --rows 24 --batch-size 5 \\
        --epochs 4 --seed 3 --out /tmp/case.json

Options:

  --layers        widths, input first: 4-8-3 is two layers, 4->8 and 8->3.
  --net-json      instead of --layers and --activations: the case's "model" list as
                  JSON, for layers of any kind (FORMAT.md): conv1d (in_channels,
                  out_channels, kernel, stride, padding none/same, length), max_pool1d
                  and avg_pool1d (channels, length, kernel, stride), flatten (inputs),
                  global_avg_pool1d (channels, length), dense (inputs, outputs); each
                  with an activation (identity if absent); inputs and outputs are
                  computed. x rows are [channels][length], flattened.
  --activations   one per layer: identity, sigmoid, tanh, relu, leaky_relu, elu,
                  softsign; leaky_relu=S and elu=A set nn.LeakyReLU's negative_slope
                  and nn.ELU's alpha (default 0.01 and 1.0; the case always spells
                  the value out, as leaky_relu=0.01). binary_cross_entropy
                  needs a sigmoid last layer, softmax_cross_entropy an identity one.
  --loss          mse, binary_cross_entropy, softmax_cross_entropy.
  --optimizer     sgd, adagrad, adadelta, rmsprop, adam, adamw, radam; its
                  hyperparameters (PyTorch's names, with - for _) default to PyTorch's
                  defaults and are all written to the case. An option that the
                  optimizer does not have is an error.
  --schedule      constant (default), exponential (--gamma), step (--step-size,
                  --gamma), inverse_time (--decay).
  --data          synthetic (--rows rows; targets by loss: a noisy linear map for mse,
                  thresholded noisy linear maps for binary_cross_entropy, Gaussian
                  blobs with one-hot targets for softmax_cross_entropy) or iris
                  (sklearn.datasets.load_iris, 150 rows, one-hot species; needs
                  --layers 4-...-3; --standardize with the mean and population std,
                  --permute to shuffle the rows once with the seed).
  --seed          seeds torch (initial parameters: nn.Linear's default init) and the
                  data.
  --rtol/--atol   the case's tolerance (defaults 1e-4 and 1e-5).
  --frozen-layers      layer indices (0 = first), comma-separated, whose weights and
                       biases do not train: requires_grad_(False), so they get no
                       gradient and torch.optim skips them (no weight decay, no
                       momentum, no state). Written as "frozen_layers".
  --bias-only-layers   layer indices whose weights are frozen that way and whose bias
                       trains (TinyTL). Written as "bias_only_layers". With either
                       option the case has both keys; each recording also trains a
                       second copy with the optimizer given only the trainable
                       parameters and checks that both give the same bits.
  --out           output file (refused if it exists, unless --force); default stdout.

Replaying a recorded case:

    python3 tools/record_case.py --replay tests/conformance/cases/NAME.json [...]

trains the case's model from its own initial parameters (freezing its frozen_layers and
bias_only_layers), data, optimizer, schedule, batch size and epochs with this PyTorch,
exactly as a recording does, and compares
every recorded loss and final parameter with the case's tolerance (|got - want| <=
atol + rtol |want|). It prints one line per case (`same bits`, or the worst deviation
as a fraction of the tolerance) and exits with 1 if one is outside its tolerance:
a check that this recorder trains as the cases were recorded. With --out (one case
only) it writes the case re-recorded by this PyTorch instead, without comparing: the
way to record a case whose data or schedule was edited by hand (soft targets, flipped
labels, another batch size).

The arguments are checked before torch is imported, so `--help` and argument errors
work without it. Needs torch (and scikit-learn for --data iris).
"""

import argparse
import copy
import json
import os
import sys
import tempfile

ACTIVATIONS = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softsign")
# Activations with a parameter: its PyTorch name and default.
ACTIVATION_PARAMS = {"leaky_relu": ("negative_slope", 0.01), "elu": ("alpha", 1.0)}


def split_activation(text):
    """("leaky_relu", 0.2) from "leaky_relu=0.2"; the default parameter when none is
    given; (name, None) for an activation without one. Raises ValueError."""
    name, _, value = text.partition("=")
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r} (known: {', '.join(ACTIVATIONS)})")
    if name not in ACTIVATION_PARAMS:
        if value:
            raise ValueError(f"{name} takes no parameter")
        return name, None
    param = float(value) if value else ACTIVATION_PARAMS[name][1]
    if not (param >= 0 and param != float("inf")):
        raise ValueError(f"{name}: {ACTIVATION_PARAMS[name][0]} must be finite and >= 0")
    return name, param


def activation_text(name, param):
    """The case's spelling: name, or name=value for one with a parameter."""
    return name if param is None else f"{name}={param!r}"
LOSSES = ("mse", "binary_cross_entropy", "softmax_cross_entropy")
REQUIRED_LAST = {"binary_cross_entropy": "sigmoid", "softmax_cross_entropy": "identity"}

# Each optimizer's hyperparameters in PyTorch's order, with PyTorch's defaults (SGD's lr
# has none in PyTorch: it must be given).
OPTIMIZERS = {
    "sgd": {"lr": None, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "adagrad": {"lr": 0.01, "lr_decay": 0.0, "weight_decay": 0.0, "initial_accumulator_value": 0.0, "eps": 1e-10},
    "adadelta": {"lr": 1.0, "rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "rmsprop": {"lr": 0.01, "alpha": 0.99, "eps": 1e-8, "weight_decay": 0.0, "momentum": 0.0, "centered": False},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0, "amsgrad": False},
    "adamw": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "amsgrad": False},
    "radam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
}
BOOL_HPS = ("nesterov", "centered", "amsgrad")
FLOAT_HPS = sorted({k for hps in OPTIMIZERS.values() for k in hps} - set(BOOL_HPS))

SCHEDULES = {"constant": (), "exponential": ("gamma",), "step": ("step_size", "gamma"), "inverse_time": ("decay",)}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Record a microtrain conformance case with PyTorch.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("Options:")[1],
    )
    p.add_argument("--replay", nargs="+", metavar="CASE", help="replay recorded cases (see above)")
    p.add_argument("--name")
    p.add_argument("--description", default="", help="free text put before the generated description")
    p.add_argument("--layers")
    p.add_argument("--net-json", dest="net_json", help="the model as JSON (layers of any kind)")
    p.add_argument("--activations")
    p.add_argument("--loss", choices=LOSSES)
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS))
    for hp in FLOAT_HPS:
        p.add_argument("--" + hp.replace("_", "-"), dest=hp, type=float, default=None)
    for hp in BOOL_HPS:
        p.add_argument("--" + hp, dest=hp, action="store_const", const=True, default=None)
    p.add_argument("--schedule", default="constant", choices=sorted(SCHEDULES))
    p.add_argument("--gamma", type=float)
    p.add_argument("--step-size", dest="step_size", type=int)
    p.add_argument("--decay", type=float)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--epochs", type=int)
    p.add_argument("--seed", type=int)
    p.add_argument("--data", choices=("synthetic", "iris"))
    p.add_argument("--rows", type=int, help="rows of synthetic data")
    p.add_argument("--standardize", action="store_true", help="iris: standardize the features")
    p.add_argument("--permute", action="store_true", help="iris: shuffle the rows once (seeded)")
    p.add_argument("--frozen-layers", dest="frozen_layers", help="comma-separated layer indices")
    p.add_argument("--bias-only-layers", dest="bias_only_layers", help="comma-separated layer indices")
    p.add_argument("--rtol", type=float, default=1e-4)
    p.add_argument("--atol", type=float, default=1e-5)
    p.add_argument("--out")
    p.add_argument("--force", action="store_true", help="overwrite --out")
    args = p.parse_args(argv)
    if args.replay:
        return args
    if args.net_json is not None:
        args.layers, args.activations = "-", "-"
    missing = [o for o in ("name", "layers", "activations", "loss", "optimizer", "batch_size", "epochs",
                           "seed", "data") if getattr(args, o) is None]
    if missing:
        p.error("the following arguments are required: " + ", ".join("--" + m.replace("_", "-") for m in missing))
    return args


class UsageError(Exception):
    """A bad combination of options; the message names the option."""


def check(args):
    """Validates the options and returns (widths, activations, hyperparameters, schedule)."""
    args.spec = None
    if args.net_json is not None:
        try:
            args.spec = complete_spec(json.loads(args.net_json))
        except (ValueError, KeyError, TypeError) as e:
            raise UsageError(f"--net-json: {e}")
        widths = [args.spec[0]["inputs"]] + [l["outputs"] for l in args.spec]
        args.layers = "-".join(str(w) for w in widths)
        args.activations = ",".join(l["activation"] for l in args.spec)
    try:
        widths = [int(w) for w in args.layers.split("-")]
    except ValueError:
        raise UsageError(f"--layers {args.layers!r}: expected widths like 4-8-3")
    if len(widths) < 2 or min(widths) < 1:
        raise UsageError(f"--layers {args.layers!r}: need at least two widths, each >= 1")
    acts = args.activations.split(",")
    if len(acts) != len(widths) - 1:
        raise UsageError(f"--activations: {len(acts)} given, the model has {len(widths) - 1} layers")
    for i, a in enumerate(acts):
        try:
            acts[i] = activation_text(*split_activation(a))
        except ValueError as e:
            raise UsageError(f"--activations: layer {i}: {e}")
    need = REQUIRED_LAST.get(args.loss)
    if need and acts[-1] != need:
        raise UsageError(f"--activations: {args.loss} needs {need} on the last layer, not {acts[-1]}")
    if args.loss == "softmax_cross_entropy" and widths[-1] < 2:
        raise UsageError("--layers: softmax_cross_entropy needs at least 2 outputs")

    known = OPTIMIZERS[args.optimizer]
    hps = {}
    for hp in FLOAT_HPS + list(BOOL_HPS):
        if hp not in known and getattr(args, hp) is not None:
            raise UsageError(f"--{hp.replace('_', '-')}: {args.optimizer} has no such hyperparameter")
    for hp, default in known.items():
        given = getattr(args, hp)
        value = given if given is not None else default
        if value is None:
            raise UsageError(f"--{hp}: required for {args.optimizer}")
        hps[hp] = value
    if hps["lr"] < 0:
        raise UsageError("--lr: must be >= 0")
    for b in ("beta1", "beta2"):
        if b in hps and not 0.0 <= hps[b] < 1.0:
            raise UsageError(f"--{b}: need 0 <= {b} < 1")
    if args.optimizer == "sgd" and hps["nesterov"] and (hps["momentum"] <= 0 or hps["dampening"] != 0):
        raise UsageError("--nesterov: needs --momentum > 0 and --dampening 0")

    sched = {"name": args.schedule}
    for key in ("gamma", "step_size", "decay"):
        value = getattr(args, key)
        if key in SCHEDULES[args.schedule]:
            if value is None:
                raise UsageError(f"--{key.replace('_', '-')}: required by --schedule {args.schedule}")
            sched[key] = value
        elif value is not None:
            raise UsageError(f"--{key.replace('_', '-')}: not used by --schedule {args.schedule}")
    if "step_size" in sched and sched["step_size"] < 1:
        raise UsageError("--step-size: must be >= 1")

    if args.batch_size < 1 or args.epochs < 1:
        raise UsageError("--batch-size and --epochs: must be >= 1")
    if args.data == "synthetic":
        if not args.rows or args.rows < 1:
            raise UsageError("--rows: required (>= 1) with --data synthetic")
        if args.standardize or args.permute:
            raise UsageError("--standardize/--permute: only with --data iris")
    else:
        if args.rows is not None:
            raise UsageError("--rows: Iris has 150 rows")
        if widths[0] != 4 or widths[-1] != 3:
            raise UsageError(f"--layers {args.layers}: Iris needs 4 inputs and 3 outputs")
    if args.out and os.path.exists(args.out) and not args.force:
        raise UsageError(f"--out {args.out}: exists (use --force to overwrite)")
    frozen = layer_indices(args.frozen_layers, "--frozen-layers", len(acts))
    bias_only = layer_indices(args.bias_only_layers, "--bias-only-layers", len(acts))
    both = sorted(set(frozen) & set(bias_only))
    if both:
        raise UsageError(f"--frozen-layers and --bias-only-layers both name layer {both[0]}")
    if len(frozen) == len(acts):
        raise UsageError("--frozen-layers: every layer is frozen, nothing would train")
    args.freezing = None if args.frozen_layers is None and args.bias_only_layers is None else (frozen, bias_only)
    return widths, acts, hps, sched


SEQ_KINDS = ("conv1d", "max_pool1d", "avg_pool1d", "global_avg_pool1d")


def complete_spec(spec):
    """The model list with every layer's kind, activation (spelled out), inputs and
    outputs filled in and checked: consecutive layers fit, no layer is empty."""
    out = []
    for i, l in enumerate(spec):
        l = dict(l)
        kind = l.setdefault("kind", "dense")
        l["activation"] = activation_text(*split_activation(l.get("activation", "identity")))
        if kind == "dense":
            ins, outs = l["inputs"], l["outputs"]
        elif kind == "conv1d":
            cin, cout, k, st, ln = l["in_channels"], l["out_channels"], l["kernel"], l["stride"], l["length"]
            pad = l.setdefault("padding", "none")
            if pad not in ("none", "same") or (pad == "same" and st != 1):
                raise ValueError(f"layer {i}: padding {pad!r} (none, or same with stride 1)")
            ins, outs = cin * ln, cout * (ln if pad == "same" else (ln - k) // st + 1)
        elif kind in ("max_pool1d", "avg_pool1d"):
            c, ln, k = l["channels"], l["length"], l["kernel"]
            st = l.setdefault("stride", k)
            ins, outs = c * ln, c * ((ln - k) // st + 1)
        elif kind == "flatten":
            ins = outs = l["inputs"]
        elif kind == "global_avg_pool1d":
            ins, outs = l["channels"] * l["length"], l["channels"]
        else:
            raise ValueError(f"layer {i}: unknown kind {kind!r}")
        if ins < 1 or outs < 1:
            raise ValueError(f"layer {i}: empty ({ins} inputs, {outs} outputs)")
        if l.get("inputs", ins) != ins or l.get("outputs", outs) != outs:
            raise ValueError(f"layer {i}: {kind} of these sizes has {ins} inputs and {outs} outputs")
        if out and out[-1]["outputs"] != ins:
            raise ValueError(f"layer {i} takes {ins} inputs, layer {i - 1} gives {out[-1]['outputs']}")
        l["inputs"], l["outputs"] = ins, outs
        out.append(l)
    return out


def build_spec_net(torch, spec):
    """A module running the layers of `spec` (any kinds) on rows of flat
    [channels][length] values; `layer_modules` holds one module per layer (None for a
    layer without parameters), with PyTorch's default initialisation."""
    nn = torch.nn
    act_mod = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "softsign": nn.Softsign}

    class SpecNet(nn.Module):
        def __init__(self):
            super().__init__()
            mods, acts = [], []
            for l in spec:
                kind = l["kind"]
                if kind == "dense":
                    mods.append(nn.Linear(l["inputs"], l["outputs"]))
                elif kind == "conv1d":
                    mods.append(nn.Conv1d(l["in_channels"], l["out_channels"], l["kernel"], stride=l["stride"],
                                          padding=0 if l["padding"] == "none" else "same"))
                elif kind == "max_pool1d":
                    mods.append(nn.MaxPool1d(l["kernel"], l["stride"]))
                elif kind == "avg_pool1d":
                    mods.append(nn.AvgPool1d(l["kernel"], l["stride"]))
                else:
                    mods.append(nn.Identity())
                name, param = split_activation(l["activation"])
                acts.append(act_mod[name]() if param is None else act_mod[name](param))
            self.mods = nn.ModuleList(mods)
            self.acts = nn.ModuleList(acts)
            self.layer_modules = [m if isinstance(m, (nn.Linear, nn.Conv1d)) else None for m in mods]

        def forward(self, x):
            n = x.shape[0]
            for l, m, a in zip(spec, self.mods, self.acts):
                kind = l["kind"]
                if kind in SEQ_KINDS:
                    c = l["in_channels"] if kind == "conv1d" else l["channels"]
                    x = x.reshape(n, c, l["length"])
                    x = x.mean(dim=-1) if kind == "global_avg_pool1d" else m(x)
                else:
                    x = x.reshape(n, -1)
                    x = m(x)
                x = a(x)
            return x.reshape(n, -1)

    return SpecNet()


def layer_indices(text, option, layers):
    """Sorted layer indices from "0,2" (None or "" = none); each must be a layer."""
    if not text:
        return []
    try:
        indices = [int(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"{option} {text!r}: expected layer indices like 0,2")
    for i in indices:
        if not 0 <= i < layers:
            raise UsageError(f"{option}: layer {i} does not exist (the model has layers 0 to {layers - 1})")
    if len(set(indices)) != len(indices):
        raise UsageError(f"{option} {text!r}: a layer is named twice")
    return sorted(indices)


def freeze(model, frozen, bias_only):
    """requires_grad_(False) on the frozen layers' weights and biases and on the
    bias-only layers' weights; returns the parameters that still train, in order."""
    if not frozen and not bias_only:
        return [p for p in model.parameters() if p.requires_grad]
    linears = [m for m in model if hasattr(m, "weight")]
    for i in frozen:
        linears[i].weight.requires_grad_(False)
        linears[i].bias.requires_grad_(False)
    for i in bias_only:
        linears[i].weight.requires_grad_(False)
    return [p for p in model.parameters() if p.requires_grad]


def lr_at(lr, sched, t):
    """The learning rate at step t (t = 0, 1, ...), in Python floats as FORMAT.md."""
    name = sched["name"]
    if name == "constant":
        return lr
    if name == "exponential":
        return lr * sched["gamma"] ** t
    if name == "step":
        return lr * sched["gamma"] ** (t // sched["step_size"])
    return lr / (1.0 + sched["decay"] * t)


def make_optimizer(torch, name, params, hps):
    """torch.optim optimizer with every hyperparameter explicit and foreach=False."""
    o = torch.optim
    if name == "sgd":
        return o.SGD(params, lr=hps["lr"], momentum=hps["momentum"], dampening=hps["dampening"],
                     nesterov=hps["nesterov"], weight_decay=hps["weight_decay"], foreach=False)
    if name == "adagrad":
        return o.Adagrad(params, lr=hps["lr"], lr_decay=hps["lr_decay"], weight_decay=hps["weight_decay"],
                         initial_accumulator_value=hps["initial_accumulator_value"], eps=hps["eps"],
                         foreach=False)
    if name == "adadelta":
        return o.Adadelta(params, lr=hps["lr"], rho=hps["rho"], eps=hps["eps"],
                          weight_decay=hps["weight_decay"], foreach=False)
    if name == "rmsprop":
        return o.RMSprop(params, lr=hps["lr"], alpha=hps["alpha"], eps=hps["eps"],
                         weight_decay=hps["weight_decay"], momentum=hps["momentum"],
                         centered=hps["centered"], foreach=False)
    betas = (hps["beta1"], hps["beta2"])
    if name == "adam":
        return o.Adam(params, lr=hps["lr"], betas=betas, eps=hps["eps"], weight_decay=hps["weight_decay"],
                      amsgrad=hps["amsgrad"], foreach=False)
    if name == "adamw":
        return o.AdamW(params, lr=hps["lr"], betas=betas, eps=hps["eps"], weight_decay=hps["weight_decay"],
                       amsgrad=hps["amsgrad"], foreach=False)
    return o.RAdam(params, lr=hps["lr"], betas=betas, eps=hps["eps"], weight_decay=hps["weight_decay"],
                   decoupled_weight_decay=False, foreach=False)


def make_data(torch, args, widths):
    """(x, y, description): float32 tensors and how they were made."""
    n_in, n_out = widths[0], widths[-1]
    g = torch.Generator().manual_seed(args.seed + 1_000_003)
    if args.data == "iris":
        from sklearn.datasets import load_iris

        iris = load_iris()
        x = torch.tensor(iris.data, dtype=torch.float64)
        if args.standardize:
            x = (x - x.mean(dim=0)) / x.std(dim=0, unbiased=False)
        labels = torch.tensor(iris.target, dtype=torch.int64)
        if args.permute:
            perm = torch.randperm(len(labels), generator=g)
            x, labels = x[perm], labels[perm]
        y = torch.nn.functional.one_hot(labels, 3).to(torch.float32)
        what = "Iris (sklearn.datasets.load_iris, 150 rows, {}, {}, one-hot species targets)".format(
            "features standardized with the mean and population std of all rows" if args.standardize
            else "raw features in cm",
            f"rows permuted once by torch.randperm (seed {args.seed} + 1000003)" if args.permute
            else "rows in dataset order",
        )
        return x.to(torch.float32), y, what
    rows = args.rows
    x = torch.randn(rows, n_in, generator=g)
    if args.loss == "mse":
        a = torch.randn(n_out, n_in, generator=g)
        c = torch.randn(n_out, generator=g)
        y = x @ a.T + c + 0.1 * torch.randn(rows, n_out, generator=g)
        what = "x ~ N(0,1), y = x A^T + c + 0.1 noise"
    elif args.loss == "binary_cross_entropy":
        w = torch.randn(n_out, n_in, generator=g)
        c = 0.5 * torch.randn(n_out, generator=g)
        y = ((x @ w.T + c + 0.3 * torch.randn(rows, n_out, generator=g)) > 0).to(torch.float32)
        what = "x ~ N(0,1), y_k = [w_k.x + c_k + 0.3 noise > 0]"
    else:
        centers = 2.0 * torch.randn(n_out, n_in, generator=g)
        labels = torch.arange(rows) % n_out
        labels = labels[torch.randperm(rows, generator=g)]
        x = centers[labels] + x
        y = torch.nn.functional.one_hot(labels, n_out).to(torch.float32)
        what = "Gaussian blobs: centers ~ N(0, 2^2), x = center + N(0,1), one-hot y"
    what = f"synthetic, {rows} rows (torch generator seed {args.seed} + 1000003): {what}"
    return x.to(torch.float32), y.to(torch.float32), what


def train(model, loss_fn, opt, x, y, batch_size, epochs, lr, sched):
    """FORMAT.md's training run: consecutive batches, the scheduled lr written to every
    param group before each step, each batch's loss recorded before its update."""
    n = x.shape[0]
    losses = []
    t = 0
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            for group in opt.param_groups:
                group["lr"] = lr_at(lr, sched, t)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            losses.append(loss.item())
            loss.backward()
            opt.step()
            t += 1
    return losses


def setup_torch():
    """torch, single-threaded and deterministic, float32 by default."""
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    return torch


def build_model(torch, widths, acts):
    """nn.Sequential of Linear + activation per layer (nn.Linear's default init)."""
    from torch import nn

    act_mod = {"identity": nn.Identity, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU,
               "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "softsign": nn.Softsign}
    mods = []
    for i, a in enumerate(acts):
        mods.append(nn.Linear(widths[i], widths[i + 1]))
        name, param = split_activation(a)
        mods.append(act_mod[name]() if param is None else act_mod[name](param))
    return nn.Sequential(*mods)


def make_loss(torch, name):
    nn = torch.nn
    return {"mse": nn.MSELoss(), "binary_cross_entropy": nn.BCELoss(),
            "softmax_cross_entropy": nn.CrossEntropyLoss()}[name]


def replay(path, compare=True):
    """(case re-recorded with this torch, (worst deviation / tolerance, where), same
    bits?); without `compare`, only the re-recorded case (a case whose data, epochs or
    batch size were edited has nothing to compare with)."""
    torch = setup_torch()
    with open(path) as f:
        case = json.load(f)
    layers = case["model"]
    widths = [layers[0]["inputs"]] + [l["outputs"] for l in layers]
    acts = [l["activation"] for l in layers]
    if any("kind" in l for l in layers):
        model = build_spec_net(torch, complete_spec(layers))
        linears = [m for m in model.layer_modules]
    else:
        model = build_model(torch, widths, acts)
        linears = [m for m in model if hasattr(m, "weight")]
    with torch.no_grad():
        for m, p in zip(linears, case["init"]):
            if m is None:
                continue
            m.weight.copy_(torch.tensor(p["weight"], dtype=torch.float32))
            m.bias.copy_(torch.tensor(p["bias"], dtype=torch.float32))
    hps = {k: v for k, v in case["optimizer"].items() if k != "name"}
    freeze(model, case.get("frozen_layers", []), case.get("bias_only_layers", []))
    opt = make_optimizer(torch, case["optimizer"]["name"], model.parameters(), hps)
    x = torch.tensor(case["x"], dtype=torch.float32)
    y = torch.tensor(case["y"], dtype=torch.float32)
    losses = train(model, make_loss(torch, case["loss"]), opt, x, y, case["batch_size"], case["epochs"],
                   hps["lr"], case["schedule"])
    got = {"losses": losses, "final": layer_params(model)}
    rtol, atol = case["rtol"], case["atol"]
    worst = (0.0, "-")
    same = True

    def walk(g, w, where):
        nonlocal worst, same
        if isinstance(w, list):
            if not isinstance(g, list) or len(g) != len(w):
                raise ValueError(f"{path}: {where}: {len(g)} values recorded here, {len(w)} in the case")
            for i, (gi, wi) in enumerate(zip(g, w)):
                walk(gi, wi, f"{where}[{i}]")
            return
        if isinstance(w, dict):
            for k in w:
                walk(g[k], w[k], f"{where}.{k}" if where else k)
            return
        same = same and g == w
        frac = abs(g - w) / (atol + rtol * abs(w))
        if frac > worst[0]:
            worst = (frac, where)

    re_recorded = dict(case)
    re_recorded["expected"] = got
    if compare:
        walk(got, case["expected"], "")
    return re_recorded, worst, same


def replay_main(args):
    if args.out and len(args.replay) != 1:
        print("record_case.py: error: --out with --replay takes one case", file=sys.stderr)
        return 2
    if args.out:
        case, _, _ = replay(args.replay[0], compare=False)
        write(case, args.out)
        print(f"re-recorded {os.path.basename(args.replay[0])} into {args.out}")
        return 0
    bad = 0
    for path in args.replay:
        case, (frac, where), same = replay(path)
        verdict = "pass" if frac <= 1.0 else "FAIL"
        bad += verdict == "FAIL"
        detail = "same bits" if same else f"worst {frac:.3g} of tolerance at {where}"
        print(f"{verdict} {os.path.basename(path)}: {detail}")
    print(f"{len(args.replay) - bad} replayed within tolerance, {bad} not")
    return 1 if bad else 0


def layer_params(model):
    """[{"weight": rows, "bias": values}, ...] of the model's nn.Linear layers (of a
    SpecNet: every layer, nested as its kind has it, [] for one without parameters)."""
    if hasattr(model, "layer_modules"):
        return [{"weight": m.weight.detach().tolist(), "bias": m.bias.detach().tolist()} if m is not None
                else {"weight": [], "bias": []} for m in model.layer_modules]
    out = []
    for m in model:
        if hasattr(m, "weight"):
            out.append({"weight": m.weight.detach().tolist(), "bias": m.bias.detach().tolist()})
    return out


def record(args):
    widths, acts, hps, sched = check(args)
    torch = setup_torch()
    torch.manual_seed(args.seed)
    if args.spec and args.freezing:
        raise UsageError("--frozen-layers/--bias-only-layers: not with --net-json")
    model = build_spec_net(torch, args.spec) if args.spec else build_model(torch, widths, acts)
    init = layer_params(model)

    x, y, data_desc = make_data(torch, args, widths)
    loss_fn = make_loss(torch, args.loss)
    frozen, bias_only = args.freezing or ([], [])
    # The optimizer gets every parameter; the frozen ones have requires_grad False, so
    # their .grad stays None and every torch.optim step skips them.
    twin = copy.deepcopy(model)
    freeze(model, frozen, bias_only)
    opt = make_optimizer(torch, args.optimizer, model.parameters(), hps)

    n = x.shape[0]
    losses = train(model, loss_fn, opt, x, y, args.batch_size, args.epochs, hps["lr"], sched)
    t = len(losses)
    freezing_text = ""
    if args.freezing:
        # The same run with the optimizer given only the trainable parameters must give
        # the same bits; and the frozen parameters must not have moved.
        twin_opt = make_optimizer(torch, args.optimizer, freeze(twin, frozen, bias_only), hps)
        twin_losses = train(twin, loss_fn, twin_opt, x, y, args.batch_size, args.epochs, hps["lr"], sched)
        if twin_losses != losses or layer_params(twin) != layer_params(model):
            raise RuntimeError("frozen parameters in the optimizer (requires_grad False) and left out of it "
                               "train differently: this torch does not skip them")
        final = layer_params(model)
        for i in frozen + bias_only:
            keys = ("weight", "bias") if i in frozen else ("weight",)
            if any(final[i][k] != init[i][k] for k in keys):
                raise RuntimeError(f"layer {i}: a frozen parameter changed in training")
        freezing_text = (f"Frozen layers {frozen}, bias-only layers {bias_only} (requires_grad_(False) on "
                         "their frozen parameters; checked: same bits with only the trainable parameters "
                         "given to the optimizer, frozen values unchanged). ")

    steps_per_epoch = -(-n // args.batch_size)
    hp_text = ", ".join(f"{k} {v}" for k, v in hps.items())
    sched_text = ", ".join(f"{k} {v}" for k, v in sched.items())
    description = (
        (args.description + " " if args.description else "")
        + f"{args.optimizer} ({hp_text}), {args.loss}, schedule {sched_text}. "
        + f"Net {args.layers} ({', '.join(acts)}). Batches of {args.batch_size} of {n} rows "
        + f"({steps_per_epoch} steps per epoch), {args.epochs} epochs = {t} steps. Data: {data_desc}. "
        + freezing_text
        + f"init: PyTorch default nn.Linear / nn.Conv1d init (U(+-1/sqrt(fan_in))) after torch.manual_seed({args.seed}). "
        + f"Recorded with torch {torch.__version__} (float32, CPU, foreach=False, "
        + "lr written to param_group['lr'] before each step) by tools/record_case.py."
    )
    case = {
        "format": 1,
        "name": args.name,
        "description": description,
        "model": args.spec or [{"inputs": widths[i], "outputs": widths[i + 1], "activation": a}
                               for i, a in enumerate(acts)],
        "loss": args.loss,
        "optimizer": {"name": args.optimizer, **hps},
        "schedule": sched,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "init": init,
        "x": x.tolist(),
        "y": y.tolist(),
        "expected": {"losses": losses, "final": layer_params(model)},
        "rtol": args.rtol,
        "atol": args.atol,
    }
    if args.freezing:
        case["frozen_layers"] = frozen
        case["bias_only_layers"] = bias_only
    return case


def write(case, out):
    """Writes the case to `out` atomically (a temp file renamed), or to stdout."""
    text = json.dumps(case, indent=1) + "\n"
    if not out:
        sys.stdout.write(text)
        return
    directory = os.path.dirname(os.path.abspath(out))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".record_case.", suffix=".json")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv=None):
    args = parse_args(argv)
    try:
        if args.replay:
            return replay_main(args)
        case = record(args)
    except UsageError as e:
        print(f"record_case.py: error: {e}", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"record_case.py: error: {e.name or e} is not installed (pip install torch scikit-learn)",
              file=sys.stderr)
        return 2
    write(case, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
