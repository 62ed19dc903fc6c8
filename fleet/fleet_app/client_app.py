"""The ClientApp: one simulated device per Flower node.

Each round the device takes the global parameters, trains on the windows its sensor
produced since the last round (`windows-per-round` windows; one Adam step on every
labelled one) and sends back its parameters. The device's identity (seed, user,
mounting, drift) comes from its `partition-id`; its stream position from the round
number, so the ephemeral ClientApp needs no state of its own.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

from fleet_app import devices
from fleet_app.config import settings


def _params(msg: Message) -> np.ndarray:
    (params,) = msg.content["arrays"].to_numpy_ndarrays()
    return np.asarray(params, dtype=np.float32)


def make_client_app(overrides: Mapping[str, Any] | None = None) -> ClientApp:
    """The ClientApp, with settings on top of the run's config."""
    app = ClientApp()

    def device(context: Context) -> tuple[devices.Device, dict[str, Any]]:
        cfg = settings(context.run_config, overrides)
        total = int(cfg["num-server-rounds"]) * int(cfg["windows-per-round"])
        return devices.Device(int(context.node_config["partition-id"]), total), cfg

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        """Train the global model on this round's windows of the device."""
        dev, cfg = device(context)
        per_round = int(cfg["windows-per-round"])
        server_round = int(msg.content["config"]["server-round"])
        x, y, _ = dev.windows((server_round - 1) * per_round, per_round)
        params, steps, loss, acc = devices.local_round(_params(msg), x, y, seed=dev.seed)
        metrics = MetricRecord({"num-examples": steps, "train_loss": loss, "accuracy_before": acc})
        content = RecordDict({"arrays": ArrayRecord([params]), "metrics": metrics})
        return Message(content=content, reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        """Accuracy of the global model on the device's held-out windows."""
        dev, _ = device(context)
        x, y = dev.holdout()
        acc = devices.evaluate_params(_params(msg), x, y)
        metrics = MetricRecord({"num-examples": len(y), "accuracy": acc})
        return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)

    return app


app = make_client_app()
