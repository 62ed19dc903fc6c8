#!/usr/bin/env python3
"""PyTorch in and out: microtrain model files from PyTorch models, and back.

Export (to `.mtm`, the core's binary format, and/or `.json`, the simulator's):

    # a state_dict saved as safetensors (no PyTorch needed) or with torch.save (.pt):
    python3 tools/export_model.py export --state-dict model.safetensors \\
        --activations relu,relu,identity --out model.mtm --out model.json

    # in Python, from a live nn.Sequential of nn.Linear and ReLU / Tanh / Sigmoid / Identity:
    from export_model import export_module, write_model
    write_model(export_module(net), "model.mtm")

Import (`.mtm` or `.json` to a state_dict, or to a live module):

    python3 tools/export_model.py import model.mtm --out model.safetensors   # no PyTorch needed
    python3 tools/export_model.py import model.mtm --out model.pt            # torch.save(state_dict)

    from export_model import module_from_model
    net = module_from_model("model.mtm")   # nn.Sequential(Linear, act, Linear, act, ...)

The state_dict written by `import` and read by `export` has the keys of
`nn.Sequential(Linear, act, Linear, act, ...)`: `0.weight`, `0.bias`, `2.weight`, ...
(any prefixes work on export: layers are ordered by their key prefix, numbers compared
as numbers, and need one activation each from --activations). Values are float32 and
copied bit for bit both ways, so a module rebuilt from a `.mtm` gives the same outputs,
bit for bit, as the module it was exported from.

A module that is not a Linear, a supported activation or a nested nn.Sequential is
refused with a message naming it ("module 2 (Conv1d) is not supported: ..."); so is a
parameter that is not float32 (convert with `.float()` first: silently rounding
float64 weights would change the model).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mtm_format import (  # noqa: E402
    ACTIVATION_CODES, Layer, ModelFormatError, encode_json, encode_mtm, layers_from_state_dict, read_model,
    state_dict_of,
)

# torch.nn activation class names and the microtrain activation each one is.
TORCH_ACTIVATIONS = {"ReLU": "relu", "Tanh": "tanh", "Sigmoid": "sigmoid", "Identity": "identity"}
SUPPORTED = "microtrain models are nn.Linear layers, each followed by at most one of nn.ReLU, nn.Tanh, " \
            "nn.Sigmoid, nn.Identity"


def _flat_children(module: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(name, module) of a Sequential's children in order, nested Sequentials flattened."""
    import torch.nn as nn

    out = []
    for name, child in module.named_children():
        full = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            out.extend(_flat_children(child, full + "."))
        else:
            out.append((full, child))
    return out


def _float32(tensor: Any, where: str) -> np.ndarray:
    import torch

    if tensor.dtype != torch.float32:
        raise ModelFormatError(f"{where} is {tensor.dtype}: microtrain stores float32 (convert with .float())")
    return tensor.detach().cpu().numpy().astype(np.float32, copy=True)


def export_module(module: Any) -> list[Layer]:
    """The layers of a live `nn.Sequential` (or a single `nn.Linear`) of Linear layers
    and supported activations. Refuses anything else, naming the module."""
    import torch.nn as nn

    children = [("0", module)] if isinstance(module, nn.Linear) else None
    if children is None:
        if not isinstance(module, nn.Sequential):
            raise ModelFormatError(f"{type(module).__name__} is not supported: export an nn.Sequential "
                                   f"({SUPPORTED})")
        children = _flat_children(module)
    layers: list[Layer] = []
    has_activation = False
    for name, child in children:
        kind = type(child).__name__
        if isinstance(child, nn.Linear):
            w = _float32(child.weight, f"module {name} (Linear) weight")
            b = (_float32(child.bias, f"module {name} (Linear) bias") if child.bias is not None
                 else np.zeros(w.shape[0], dtype=np.float32))
            layers.append(Layer(w, b, "identity"))
            has_activation = False
        elif kind in TORCH_ACTIVATIONS and type(child) is getattr(nn, kind):
            if not layers:
                raise ModelFormatError(f"module {name} ({kind}) is not supported here: an activation before "
                                       f"the first Linear ({SUPPORTED})")
            if has_activation:
                if kind == "Identity":
                    continue
                raise ModelFormatError(f"module {name} ({kind}) is not supported here: a second activation "
                                       f"after one Linear ({SUPPORTED})")
            layers[-1].activation = TORCH_ACTIVATIONS[kind]
            has_activation = kind != "Identity"
        else:
            raise ModelFormatError(f"module {name} ({kind}) is not supported: {SUPPORTED}")
    if not layers:
        raise ModelFormatError(f"the module has no Linear layer: {SUPPORTED}")
    for i in range(1, len(layers)):
        if layers[i].inputs != layers[i - 1].outputs:
            raise ModelFormatError(f"Linear layer {i} takes {layers[i].inputs} inputs, Linear layer {i - 1} "
                                   f"gives {layers[i - 1].outputs}")
    return layers


def load_state_dict(path: str) -> dict[str, np.ndarray]:
    """A state_dict from a `.safetensors` file (numpy only) or a `torch.save` file (needs
    torch; loaded with weights_only=True). Every value must be float32."""
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file

        try:
            state = load_file(path)
        except Exception as e:  # safetensors raises its own error types
            raise ModelFormatError(f"{path}: not a readable safetensors file: {e}") from None
        for key, value in state.items():
            if value.dtype != np.float32:
                raise ModelFormatError(f"{path}: {key} is {value.dtype}: microtrain stores float32 "
                                       "(convert with .float() before saving)")
        return state
    try:
        import torch
    except ImportError:
        raise ModelFormatError(f"{path}: reading a torch.save file needs PyTorch (pip install torch), "
                               "or save the state_dict as .safetensors") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ModelFormatError(f"{path}: not a state_dict saved with torch.save "
                               f"(save model.state_dict(), not the module): {e}") from None
    if not isinstance(obj, dict):
        raise ModelFormatError(f"{path}: holds a {type(obj).__name__}, not a state_dict")
    return {key: _float32(value, f"{path}: {key}") for key, value in obj.items()}


def module_from_layers(layers: list[Layer]) -> Any:
    """`nn.Sequential(Linear, act, Linear, act, ...)` (nn.Identity for identity) with
    the layers' parameters copied bit for bit."""
    import torch
    import torch.nn as nn

    make = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "identity": nn.Identity}
    mods = []
    for layer in layers:
        linear = nn.Linear(layer.inputs, layer.outputs, dtype=torch.float32)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.copy()))
            linear.bias.copy_(torch.from_numpy(layer.bias.copy()))
        mods += [linear, make[layer.activation]()]
    return nn.Sequential(*mods)


def module_from_model(path: str) -> Any:
    """A live PyTorch module from a `.mtm` or `.json` model file."""
    return module_from_layers(read_model(path))


def _write_atomic(path: str, data: bytes) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".export_model.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_model(layers: list[Layer], path: str, **names: Any) -> None:
    """Writes `.json` (by extension; `names`: loss, features, targets, classes) or `.mtm`
    (any other extension), atomically."""
    if path.lower().endswith(".json"):
        _write_atomic(path, encode_json(layers, **names).encode("utf-8"))
    else:
        _write_atomic(path, encode_mtm(layers))


def write_state_dict(layers: list[Layer], path: str) -> None:
    """Writes the Sequential state_dict as `.safetensors` (numpy only) or, for any other
    extension, with torch.save (needs torch)."""
    state = state_dict_of(layers)
    if path.endswith(".safetensors"):
        from safetensors.numpy import save

        _write_atomic(path, save(state))
        return
    import torch

    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".export_model.")
    os.close(fd)
    try:
        torch.save({k: torch.from_numpy(v) for k, v in state.items()}, tmp)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docs)."""
    p = argparse.ArgumentParser(description="PyTorch state_dicts to microtrain model files and back.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    sub = p.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("export", help="a state_dict (.safetensors or torch.save) to .mtm and/or .json")
    ex.add_argument("--state-dict", required=True, help=".safetensors (no torch needed) or a torch.save file")
    ex.add_argument("--activations", required=True,
                    help=f"one per Linear layer, comma-separated: {', '.join(ACTIVATION_CODES)}")
    ex.add_argument("--out", action="append", required=True, help=".mtm or .json; may be given twice")
    ex.add_argument("--loss", help="JSON only: the loss the model was trained with")
    ex.add_argument("--features", help="JSON only: input column names, comma-separated")
    ex.add_argument("--classes", help="JSON only: class names in output order, comma-separated")
    im = sub.add_parser("import", help="a .mtm or .json model to a state_dict (.safetensors, or torch.save)")
    im.add_argument("model")
    im.add_argument("--out", required=True, help=".safetensors (no torch needed) or .pt (torch.save)")
    args = p.parse_args(argv)
    try:
        if args.command == "export":
            acts = args.activations.split(",")
            for i, a in enumerate(acts):
                if a not in ACTIVATION_CODES:
                    raise ModelFormatError(f"--activations: layer {i}: unknown activation {a!r} "
                                           f"(known: {', '.join(ACTIVATION_CODES)})")
            layers = layers_from_state_dict(load_state_dict(args.state_dict), acts, args.state_dict)
            names: dict[str, Any] = {}
            if args.loss:
                names["loss"] = args.loss
            if args.features:
                names["features"] = args.features.split(",")
            if args.classes:
                names["classes"] = args.classes.split(",")
            for out in args.out:
                write_model(layers, out, **(names if out.lower().endswith(".json") else {}))
            shape = "-".join(str(n) for n in [layers[0].inputs] + [la.outputs for la in layers])
            print(f"exported {shape} ({', '.join(la.activation for la in layers)}) to {', '.join(args.out)}")
        else:
            layers = read_model(args.model)
            write_state_dict(layers, args.out)
            print(f"wrote {len(layers)} Linear layers of {args.model} to {args.out}")
    except (ModelFormatError, OSError) as e:
        print(f"export_model.py: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
