"""microtrain's model files in Python, with numpy only (no PyTorch needed).

- `.mtm`: the core's binary format (core/src/model_file.rs): magic `MTRN`, version 1
  or 2 (u16), layer count (u16), parameter count (u32), per layer inputs (u32), outputs
  (u32), activation code (u8: 0 identity, 1 sigmoid, 2 tanh, 3 relu, 4 leaky_relu, 5 elu,
  6 softsign) and 3 zero bytes, in version 2 (written only when an activation's
  parameter is not PyTorch's default) followed by the activation's parameter (f32; 0
  for the others), then
  every parameter as little-endian f32 (per layer W row-major, then b), then the CRC-32
  (IEEE, as zlib.crc32) of every byte before it.
- `.json`: the simulator's JSON model (host-sim/src/model/saved_model.rs), format
  "microtrain-model" version 1; values in the shortest decimal form that reads back to
  the same float32.
- safetensors state_dicts with the keys of `nn.Sequential(Linear, act, Linear, act, ...)`
  (`0.weight`, `0.bias`, `2.weight`, ...).

A model here is a list of `Layer`s: float32 numpy arrays `weight` (outputs x inputs, as
`nn.Linear.weight`) and `bias` (outputs), and an activation name (`leaky_relu=0.2`,
`elu=1.0` for those with a parameter; a bare `leaky_relu`/`elu` is PyTorch's default).
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np

MAGIC = b"MTRN"
VERSION = 1
MAX_LAYERS = 64
HEADER = 12
LAYER_RECORD = 12
LAYER_RECORD_V2 = 16
# Activation names and their codes in the binary format (core/src/activation.rs).
ACTIVATION_CODES = {"identity": 0, "sigmoid": 1, "tanh": 2, "relu": 3, "leaky_relu": 4, "elu": 5, "softsign": 6}
CODE_ACTIVATIONS = {code: name for name, code in ACTIVATION_CODES.items()}
# Activations with a parameter, and its default (PyTorch's).
ACTIVATION_DEFAULTS = {"leaky_relu": 0.01, "elu": 1.0}


def split_activation(text: str) -> tuple[str, float | None]:
    """("leaky_relu", 0.2) from "leaky_relu=0.2" (the default without "="); (name, None)
    for an activation without a parameter. Raises ValueError."""
    name, _, value = text.partition("=")
    if name not in ACTIVATION_CODES:
        raise ValueError(f"unknown activation {text!r} (known: {', '.join(ACTIVATION_CODES)})")
    if name not in ACTIVATION_DEFAULTS:
        if value:
            raise ValueError(f"activation {name} takes no parameter")
        return name, None
    param = float(np.float32(float(value))) if value else ACTIVATION_DEFAULTS[name]
    if not (np.isfinite(param) and param >= 0):
        raise ValueError(f"activation {name}: parameter {param} must be finite and >= 0")
    return name, param
# The losses a JSON model may name (host-sim's by_name::loss).
LOSSES = ("mse", "binary_cross_entropy", "softmax_cross_entropy")


class ModelFormatError(ValueError):
    """A model file or state_dict that cannot be read or written; the message says where."""


@dataclass
class Layer:
    """One dense layer `y = act(W x + b)`."""

    weight: np.ndarray  # float32, outputs x inputs
    bias: np.ndarray  # float32, outputs
    activation: str

    @property
    def inputs(self) -> int:
        """Number of inputs."""
        return int(self.weight.shape[1])

    @property
    def outputs(self) -> int:
        """Number of outputs."""
        return int(self.weight.shape[0])


def check_layers(layers: list[Layer], where: str) -> None:
    """Checks what both file formats require: 1..=64 layers, known activations, 2-D
    float32 weights, matching biases, consecutive layers that fit, finite values."""
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFormatError(f"{where}: {len(layers)} layers (must be 1 to {MAX_LAYERS})")
    for i, layer in enumerate(layers):
        try:
            split_activation(layer.activation)
        except ValueError as e:
            raise ModelFormatError(f"{where}: layer {i}: {e}") from None
        if layer.weight.ndim != 2 or layer.weight.shape[0] < 1 or layer.weight.shape[1] < 1:
            raise ModelFormatError(f"{where}: layer {i}: weight of shape {layer.weight.shape}, "
                                   "expected (outputs >= 1, inputs >= 1)")
        if layer.bias.shape != (layer.outputs,):
            raise ModelFormatError(f"{where}: layer {i}: bias of shape {layer.bias.shape}, "
                                   f"expected ({layer.outputs},)")
        for name, arr in (("weight", layer.weight), ("bias", layer.bias)):
            if arr.dtype != np.float32:
                raise ModelFormatError(f"{where}: layer {i}: {name} is {arr.dtype}, expected float32")
            bad = np.flatnonzero(~np.isfinite(arr))
            if bad.size:
                raise ModelFormatError(f"{where}: layer {i}: {name} value {int(bad[0])} (flat index) "
                                       "is not finite")
        if i > 0 and layer.inputs != layers[i - 1].outputs:
            raise ModelFormatError(f"{where}: layer {i} takes {layer.inputs} inputs, "
                                   f"layer {i - 1} gives {layers[i - 1].outputs} outputs")


def encode_mtm(layers: list[Layer]) -> bytes:
    """The `.mtm` bytes of a model (checked first)."""
    check_layers(layers, "model")
    params = sum(layer.outputs * (layer.inputs + 1) for layer in layers)
    out = bytearray(MAGIC)
    acts = [split_activation(layer.activation) for layer in layers]
    # Version 1 means PyTorch's default by codes 4 and 5: version 2 only for another value.
    v2 = any(p is not None and np.float32(p) != np.float32(ACTIVATION_DEFAULTS[n]) for n, p in acts)
    out += struct.pack("<HHI", 2 if v2 else 1, len(layers), params)
    for layer, (name, p) in zip(layers, acts):
        out += struct.pack("<IIB3x", layer.inputs, layer.outputs, ACTIVATION_CODES[name])
        if v2:
            out += struct.pack("<f", p or 0.0)
    for layer in layers:
        out += layer.weight.astype("<f4").tobytes(order="C")
        out += layer.bias.astype("<f4").tobytes()
    out += struct.pack("<I", zlib.crc32(bytes(out)))
    return bytes(out)


def decode_mtm(data: bytes, where: str = "model") -> list[Layer]:
    """Parses `.mtm` bytes, checking what core/src/model_file.rs checks; errors name the
    byte offset."""
    if len(data) < HEADER:
        raise ModelFormatError(f"{where}: truncated: {len(data)} bytes, at least {HEADER} needed")
    if data[:4] != MAGIC:
        raise ModelFormatError(f"{where}: offset 0: not a microtrain model file (magic is not MTRN)")
    version, count, declared = struct.unpack_from("<HHI", data, 4)
    if version not in (1, 2):
        raise ModelFormatError(f"{where}: offset 4: format version {version} is not supported (reads 1 and 2)")
    record = LAYER_RECORD if version == 1 else LAYER_RECORD_V2
    if not 1 <= count <= MAX_LAYERS:
        raise ModelFormatError(f"{where}: offset 6: {count} layers (must be 1 to {MAX_LAYERS})")
    table_end = HEADER + record * count
    if len(data) < table_end:
        raise ModelFormatError(f"{where}: truncated: {len(data)} bytes, at least {table_end} needed")
    shapes = []
    for i in range(count):
        off = HEADER + record * i
        inputs, outputs, code = struct.unpack_from("<IIB", data, off)
        name = CODE_ACTIVATIONS.get(code)
        param = struct.unpack_from("<f", data, off + 12)[0] if version == 2 else None
        if name in ACTIVATION_DEFAULTS:
            param = ACTIVATION_DEFAULTS[name] if param is None else param
            param_ok = bool(np.isfinite(param)) and param >= 0
            act = f"{name}={str(np.float32(param))}"
        else:
            param_ok = version == 1 or data[off + 12:off + 16] == b"\0\0\0\0"
            act = name
        if (inputs == 0 or outputs == 0 or name is None or not param_ok or data[off + 9:off + 12] != b"\0\0\0"
                or (shapes and shapes[-1][1] != inputs)):
            raise ModelFormatError(f"{where}: offset {off}: layer {i} is invalid (empty, unknown activation or "
                                   "bad activation parameter, reserved bytes set, or inputs not matching the "
                                   "previous layer)")
        shapes.append((inputs, outputs, act))
    expected = sum(o * (i + 1) for i, o, _ in shapes)
    if declared != expected:
        raise ModelFormatError(f"{where}: offset 8: header declares {declared} parameters, "
                               f"the layers have {expected}")
    total = table_end + 4 * expected + 4
    if len(data) != total:
        raise ModelFormatError(f"{where}: length: {len(data)} bytes, the header implies {total}")
    stored = struct.unpack_from("<I", data, total - 4)[0]
    computed = zlib.crc32(data[:total - 4])
    if stored != computed:
        raise ModelFormatError(f"{where}: checksum mismatch: stored {stored:#010x}, "
                               f"contents give {computed:#010x} (file corrupted)")
    values = np.frombuffer(data, dtype="<f4", count=expected, offset=table_end).astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        index = int(bad[0])
        raise ModelFormatError(f"{where}: offset {table_end + 4 * index}: parameter {index} is not finite")
    layers = []
    pos = 0
    for inputs, outputs, act in shapes:
        w = values[pos:pos + inputs * outputs].reshape(outputs, inputs).copy()
        pos += inputs * outputs
        b = values[pos:pos + outputs].copy()
        pos += outputs
        layers.append(Layer(w, b, act))
    return layers


def shortest(v: np.float32) -> float:
    """The Python float of the shortest decimal that reads back to the float32 `v`, so
    that json.dumps writes that decimal."""
    return float(np.format_float_positional(np.float32(v), unique=True, trim="-")) if v != 0 else (
        -0.0 if np.signbit(v) else 0.0)


def encode_json(layers: list[Layer], loss: str | None = None, features: Iterable[str] = (),
                targets: Iterable[str] = (), classes: list[str] | None = None) -> str:
    """The simulator's JSON model text (format "microtrain-model" version 1); the
    optional names are checked as the simulator checks them."""
    check_layers(layers, "model")
    features, targets = list(features), list(targets)
    if loss is not None and loss not in LOSSES:
        raise ModelFormatError(f"loss {loss!r}: unknown (known: {', '.join(LOSSES)})")
    if features and len(features) != layers[0].inputs:
        raise ModelFormatError(f"features: {len(features)} names, the model has {layers[0].inputs} inputs")
    if classes is not None and len(classes) != layers[-1].outputs:
        raise ModelFormatError(f"classes: {len(classes)} names, the model has {layers[-1].outputs} outputs")
    model = {
        "format": "microtrain-model",
        "version": 1,
        "loss": loss,
        "features": features,
        "targets": targets,
        "classes": classes,
        "layers": [{
            "inputs": layer.inputs,
            "outputs": layer.outputs,
            "activation": layer.activation,
            "weight": [[shortest(v) for v in row] for row in layer.weight],
            "bias": [shortest(v) for v in layer.bias],
        } for layer in layers],
    }
    return json.dumps(model, indent=2) + "\n"


def decode_json(text: str, where: str = "model") -> list[Layer]:
    """Parses the simulator's JSON model; errors name the field."""
    try:
        model = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelFormatError(f"{where}: line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(model, dict) or model.get("format") != "microtrain-model" or model.get("version") != 1:
        raise ModelFormatError(f"{where}: field `format`/`version`: expected \"microtrain-model\" version 1")
    layers = []
    for i, entry in enumerate(model.get("layers") or []):
        try:
            w = np.array(entry["weight"], dtype=np.float64).astype(np.float32)
            b = np.array(entry["bias"], dtype=np.float64).astype(np.float32)
            act = entry["activation"]
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFormatError(f"{where}: field `layers[{i}]`: {e}") from None
        if w.ndim != 2 or w.shape != (entry.get("outputs"), entry.get("inputs")):
            raise ModelFormatError(f"{where}: field `layers[{i}].weight`: shape {w.shape}, the layer declares "
                                   f"{entry.get('outputs')} outputs x {entry.get('inputs')} inputs")
        layers.append(Layer(w, b, act))
    check_layers(layers, where)
    return layers


def _natural_key(prefix: str) -> list:
    """Orders `2` before `10` (safetensors files list their keys sorted as text)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", prefix)]


def layers_from_state_dict(state: Mapping[str, np.ndarray], activations: list[str],
                           where: str = "state_dict") -> list[Layer]:
    """Layers from a state_dict of Linear layers (`<prefix>.weight`, `<prefix>.bias`),
    ordered by prefix with numbers compared as numbers, one activation per layer. A
    Linear without bias (`bias=False`) gets a zero bias, which gives the same outputs."""
    prefixes: dict[str, dict[str, np.ndarray]] = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        if leaf not in ("weight", "bias"):
            raise ModelFormatError(f"{where}: key {key!r}: only Linear layers' `weight` and `bias` are "
                                   "supported (a BatchNorm's running stats, a buffer, ... are not)")
        prefixes.setdefault(prefix, {})[leaf] = np.asarray(value)
    order = sorted(prefixes, key=_natural_key)
    if len(activations) != len(order):
        raise ModelFormatError(f"{where}: {len(order)} layers ({', '.join(order)}), "
                               f"{len(activations)} activations given")
    layers = []
    for prefix, act in zip(order, activations):
        entry = prefixes[prefix]
        if "weight" not in entry:
            raise ModelFormatError(f"{where}: {prefix}.bias has no {prefix}.weight")
        w = entry["weight"]
        if w.ndim != 2:
            raise ModelFormatError(f"{where}: {prefix}.weight has shape {tuple(w.shape)}: not a Linear layer's "
                                   "(outputs, inputs)")
        b = entry.get("bias")
        if b is None:
            b = np.zeros(w.shape[0], dtype=w.dtype)
        layers.append(Layer(np.ascontiguousarray(w), np.ascontiguousarray(b), act))
    check_layers(layers, where)
    return layers


def state_dict_of(layers: list[Layer]) -> dict[str, np.ndarray]:
    """The state_dict of `nn.Sequential(Linear, act, Linear, act, ...)` (an activation
    module after every Linear, nn.Identity for identity): keys `0.weight`, `0.bias`,
    `2.weight`, ..."""
    out = {}
    for i, layer in enumerate(layers):
        out[f"{2 * i}.weight"] = layer.weight.copy()
        out[f"{2 * i}.bias"] = layer.bias.copy()
    return out


def read_model(path: str) -> list[Layer]:
    """A `.mtm` or `.json` model file (told apart by content, as the simulator does)."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(MAGIC):
        return decode_mtm(data, path)
    if data.lstrip()[:1] == b"{":
        return decode_json(data.decode("utf-8"), path)
    raise ModelFormatError(f"{path}: not a model file (neither the binary format, which starts with MTRN, nor JSON)")
