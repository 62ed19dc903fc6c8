#!/usr/bin/env python3
"""Record the PyTorch side of the export tests once, so that CI needs no PyTorch.

    python3 tools/record_export_fixture.py [--out tools/tests/fixtures/export] [--force]

Builds a seeded `nn.Sequential` 5-16-9-7-3 (Linear + Tanh, Linear + Sigmoid, Linear +
ReLU, Linear with no activation: every microtrain activation), and writes into --out:

- `model.safetensors`: its state_dict (keys `0.weight`, `0.bias`, `2.weight`, ...);
- `live_export.mtm`: the `.mtm` exported from the live module by
  `export_model.export_module` (CI checks that exporting the state_dict file gives
  these exact bytes);
- `batch.safetensors`: a test batch `x` (64 x 5, float32, including rows that drive
  the sigmoid and tanh into saturation and the ReLU to zero), `torch_out`, the live
  module's float32 outputs on it (one batched call, `module(x)`), and `torch_out_rows`,
  the same module called on one row at a time (PyTorch's own bits depend on the batch
  size: its sgemm picks other kernels and summation orders);
- `meta.json`: the activations, shape, torch version and how it was made.

Before writing, it checks with this torch what CI cannot: exporting the live module,
its state_dict saved with `torch.save` and saved as safetensors gives the same `.mtm`
bytes, and the module rebuilt from that `.mtm` (`export_model.module_from_model`), and
from the `.pt` written by `export_model.py import`, gives the same output bits as the
original on the batch; and `export_module` refuses unsupported modules (Conv1d,
Dropout, GELU, LayerNorm, an activation first or twice, float64), naming each. Needs torch, numpy and safetensors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import export_model  # noqa: E402
from mtm_format import encode_mtm, layers_from_state_dict  # noqa: E402

WIDTHS = [5, 16, 9, 7, 3]
ACTIVATIONS = ["tanh", "sigmoid", "relu", "identity"]
SEED = 2026
ROWS = 64


def build(torch):
    """The seeded module: nn.Linear's default init after torch.manual_seed(SEED)."""
    nn = torch.nn
    torch.manual_seed(SEED)
    return nn.Sequential(
        nn.Linear(5, 16), nn.Tanh(),
        nn.Linear(16, 9), nn.Sigmoid(),
        nn.Linear(9, 7), nn.ReLU(),
        nn.Linear(7, 3),
    )


def batch(torch):
    """64 rows: 48 of N(0, 1), 8 of N(0, 6^2) (saturation), 8 of N(0, 0.01^2)."""
    g = torch.Generator().manual_seed(SEED + 1)
    return torch.cat([
        torch.randn(48, 5, generator=g),
        6.0 * torch.randn(8, 5, generator=g),
        0.01 * torch.randn(8, 5, generator=g),
    ]).to(torch.float32)


def check_refusals(torch) -> None:
    """export_module refuses what microtrain cannot run, naming the module (checked here
    because CI has no torch to build modules with)."""
    nn = torch.nn
    cases = [
        (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Conv1d(1, 1, 1)), "module 2 (Conv1d) is not supported"),
        (nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.1), nn.Linear(8, 2)), "module 1 (Dropout) is not supported"),
        (nn.Sequential(nn.Linear(4, 8), nn.GELU()), "module 1 (GELU) is not supported"),
        (nn.Sequential(nn.ReLU(), nn.Linear(4, 8)), "module 0 (ReLU) is not supported here"),
        (nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Tanh()), "module 2 (Tanh) is not supported here"),
        (nn.Sequential(nn.Linear(4, 8), nn.Linear(7, 2)), "Linear layer 1 takes 7 inputs"),
        (nn.Sequential(nn.Linear(4, 8).double()), "module 0 (Linear) weight is torch.float64"),
        (nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.LayerNorm(8)), "module 1 (LayerNorm)"),
        (nn.Conv1d(1, 1, 1), "Conv1d is not supported: export an nn.Sequential"),
    ]
    for module, message in cases:
        try:
            export_model.export_module(module)
        except export_model.ModelFormatError as e:
            if message not in str(e):
                raise RuntimeError(f"{module}: refused with {e!r}, expected {message!r}") from None
        else:
            raise RuntimeError(f"{module}: exported, expected a refusal naming {message!r}")
    # Accepted: nested Sequentials, a Linear without bias (zero bias), no activation.
    nested = nn.Sequential(nn.Sequential(nn.Linear(3, 4, bias=False), nn.Sigmoid()), nn.Linear(4, 2))
    layers = export_model.export_module(nested)
    if [la.activation for la in layers] != ["sigmoid", "identity"] or layers[0].bias.any():
        raise RuntimeError(f"nested Sequential exported as {layers}")


def main(argv: list[str] | None = None) -> int:
    """Records the fixture (see the module docs)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    p.add_argument("--out", default=os.path.join(here, "tests", "fixtures", "export"))
    p.add_argument("--force", action="store_true", help="overwrite an existing fixture")
    args = p.parse_args(argv)
    files = ["model.safetensors", "live_export.mtm", "batch.safetensors", "meta.json"]
    if not args.force and any(os.path.exists(os.path.join(args.out, f)) for f in files):
        print(f"record_export_fixture.py: error: {args.out} holds a fixture (use --force)", file=sys.stderr)
        return 2
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    net = build(torch).eval()
    x = batch(torch)
    with torch.no_grad():
        out = net(x)
        rows = torch.cat([net(x[i:i + 1]) for i in range(x.shape[0])])

    live = encode_mtm(export_model.export_module(net))
    with tempfile.TemporaryDirectory() as tmp:
        pt = os.path.join(tmp, "model.pt")
        st = os.path.join(tmp, "model.safetensors")
        torch.save(net.state_dict(), pt)
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, st)
        for path in (pt, st):
            from_file = encode_mtm(layers_from_state_dict(export_model.load_state_dict(path), ACTIVATIONS, path))
            if from_file != live:
                raise RuntimeError(f"{os.path.basename(path)}: exported bytes differ from the live module's")
        mtm = os.path.join(tmp, "model.mtm")
        with open(mtm, "wb") as f:
            f.write(live)
        back_pt = os.path.join(tmp, "back.pt")
        if export_model.main(["import", mtm, "--out", back_pt]) != 0:
            raise RuntimeError("export_model.py import to .pt failed")
        rebuilt_from_pt = export_model.module_from_layers(
            layers_from_state_dict(export_model.load_state_dict(back_pt), ACTIVATIONS, back_pt))
        for what, module in (("module_from_model(.mtm)", export_model.module_from_model(mtm)),
                             ("import to .pt, then load", rebuilt_from_pt)):
            with torch.no_grad():
                again = module(x)
            if not torch.equal(again.view(torch.int32), out.view(torch.int32)):
                raise RuntimeError(f"{what}: outputs differ in bits from the original module")

    check_refusals(torch)
    os.makedirs(args.out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, os.path.join(args.out, "model.safetensors"))
    with open(os.path.join(args.out, "live_export.mtm"), "wb") as f:
        f.write(live)
    save_file({"x": x.contiguous(), "torch_out": out.contiguous(), "torch_out_rows": rows.contiguous()},
              os.path.join(args.out, "batch.safetensors"))
    meta = {
        "widths": WIDTHS,
        "activations": ACTIVATIONS,
        "seed": SEED,
        "rows": ROWS,
        "torch": torch.__version__,
        "description": "nn.Sequential(Linear(5,16), Tanh, Linear(16,9), Sigmoid, Linear(9,7), ReLU, Linear(7,3)), "
                       f"default init after torch.manual_seed({SEED}); torch_out = module(x) in one batched call, torch_out_rows = "
                       "module(x[i:i+1]) row by row, "
                       "float32 CPU, 1 thread, deterministic algorithms. Recorded by tools/record_export_fixture.py, "
                       "which checked: live module, torch.save and safetensors state_dicts export to the same .mtm "
                       "bytes; modules rebuilt from the .mtm give the same output bits.",
    }
    with open(os.path.join(args.out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(f"recorded {args.out}: {', '.join(files)} (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
