"""Runs the federation in this process with Flower's simulation engine
(`flwr.simulation.run_simulation`, Ray backend): what the tests and the README's
figures use. `flwr run fleet` runs the same ServerApp and ClientApp.

    python -m fleet_app.run --devices 20 --rounds 10 --strategy fedavg
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from flwr.simulation import run_simulation

from fleet_app.client_app import make_client_app
from fleet_app.config import DEFAULTS
from fleet_app.server_app import make_server_app


def simulate(devices: int, backend: str = "ray", **overrides: Any) -> dict[str, Any]:
    """Runs `devices` simulated devices under Flower; returns the server's summary
    plus `total_seconds` (the whole simulation, Ray's start included)."""
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    overrides = {k.replace("_", "-"): v for k, v in overrides.items()}
    overrides["results-file"] = path
    start = time.perf_counter()
    try:
        run_simulation(
            server_app=make_server_app(overrides),
            client_app=make_client_app(overrides),
            num_supernodes=devices,
            backend_name=backend,
            backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
        )
        total = time.perf_counter() - start
        with open(path) as f:
            text = f.read()
        if not text:
            raise RuntimeError("the federation wrote no summary (see Flower's log above)")
        summary = json.loads(text)
    finally:
        os.unlink(path)
    summary["total_seconds"] = total
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, default=20)
    p.add_argument("--rounds", type=int, default=DEFAULTS["num-server-rounds"])
    p.add_argument("--windows-per-round", type=int, default=DEFAULTS["windows-per-round"])
    p.add_argument("--strategy", choices=["fedavg", "fedadam"], default=DEFAULTS["strategy"])
    p.add_argument("--fedadam-eta", type=float, default=DEFAULTS["fedadam-eta"])
    p.add_argument("--seed", type=int, default=DEFAULTS["seed"])
    p.add_argument("--out", help="also write the summary to this JSON file")
    a = p.parse_args()
    s = simulate(
        a.devices,
        num_server_rounds=a.rounds,
        windows_per_round=a.windows_per_round,
        strategy=a.strategy,
        fedadam_eta=a.fedadam_eta,
        seed=a.seed,
    )
    print(json.dumps(s))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(s, f, indent=1)


if __name__ == "__main__":
    main()
