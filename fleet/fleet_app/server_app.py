"""The ServerApp: Flower's FedAvg or FedAdam over the fleet, evaluated each round on the
held-out windows of every device, pooled (and by each client on its own)."""

from __future__ import annotations

import json
import time
from typing import Any, Mapping

from flwr.app import ArrayRecord, Context, MetricRecord
from flwr.serverapp import Grid, ServerApp
from flwr.serverapp.strategy import FedAdam, FedAvg

import microtrain as mt
from fleet_app import devices
from fleet_app.config import settings


def _wait_for_devices(grid: Grid, timeout: float = 120.0) -> int:
    """The number of devices: every node of the federation (`options.num-supernodes`),
    once they have all connected (the count stays the same for a second)."""
    deadline = time.monotonic() + timeout
    last, stable_since = 0, time.monotonic()
    while time.monotonic() < deadline:
        n = len(list(grid.get_node_ids()))
        if n != last:
            last, stable_since = n, time.monotonic()
        elif n > 0 and time.monotonic() - stable_since >= 1.0:
            return n
        time.sleep(0.1)
    raise RuntimeError(f"no devices connected within {timeout} s")


def make_strategy(name: str, num_devices: int, eta: float):
    """Flower's strategy `name` (fedavg or fedadam), every device in every round."""
    common = dict(
        fraction_train=1.0,
        fraction_evaluate=1.0,
        min_train_nodes=num_devices,
        min_evaluate_nodes=num_devices,
        min_available_nodes=num_devices,
    )
    if name == "fedavg":
        return FedAvg(**common)
    if name == "fedadam":
        return FedAdam(**common, eta=eta, eta_l=eta, tau=1e-3)
    raise ValueError(f"strategy: unknown strategy {name!r} (known: fedavg, fedadam)")


def make_server_app(overrides: Mapping[str, Any] | None = None) -> ServerApp:
    """The ServerApp, with settings on top of the run's config."""
    app = ServerApp()

    @app.main()
    def main(grid: Grid, context: Context) -> None:
        run(grid, settings(context.run_config, overrides))

    return app


def run(grid: Grid, cfg: dict[str, Any]) -> dict[str, Any]:
    """The federation: Flower's strategy over the grid's devices; returns the summary."""
    rounds = int(cfg["num-server-rounds"])
    num_devices = _wait_for_devices(grid)
    strategy = make_strategy(str(cfg["strategy"]), num_devices, float(cfg["fedadam-eta"]))
    hx, hy = devices.pooled_holdout(num_devices)
    per_round = []

    def central_eval(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        (params,) = arrays.to_numpy_ndarrays()
        acc = devices.evaluate_params(params, hx, hy)
        per_round.append(acc)
        return MetricRecord({"accuracy": acc})

    initial = devices.new_model(int(cfg["seed"])).get_params()
    start = time.perf_counter()
    result = strategy.start(
        grid=grid,
        initial_arrays=ArrayRecord([initial]),
        num_rounds=rounds,
        evaluate_fn=central_eval,
    )
    wall = time.perf_counter() - start
    (final,) = result.arrays.to_numpy_ndarrays()
    model_file = devices.new_model().to_bytes()
    summary = {
        "strategy": str(cfg["strategy"]),
        "devices": num_devices,
        "rounds": rounds,
        "windows_per_round": int(cfg["windows-per-round"]),
        "holdout_windows": int(len(hy)),
        "accuracy_per_round": per_round,
        "client_accuracy_per_round": [
            float(result.evaluate_metrics_clientapp[r]["accuracy"])
            for r in sorted(result.evaluate_metrics_clientapp)
        ],
        "final_accuracy": per_round[-1],
        "model_file_bytes": len(model_file),
        "final_checksum": mt.checksum(final),
        "wall_seconds": wall,
    }
    print("fleet summary " + json.dumps(summary))
    out = str(cfg["results-file"])
    if out:
        with open(out, "w") as f:
            json.dump(summary, f, indent=1)
    return summary


app = make_server_app()

