"""Devices in the loop: Flower clients whose training runs on emulated Cortex-M4F boards.

`QemuDevice.train_round` is the bridge. It writes the global weights as the core's
model file (`.mtm`, the bytes a board's flash or serial link would carry), starts the
`fleet-device` firmware (`firmware/qemu/src/bin/fleet-device.rs`) on QEMU's
`mps2-an386` with the round's settings on its command line, lets it train on its own
simulated sensor, and reads back the model file the firmware wrote through
semihosting. `make_qemu_client_app` is the fleet's ClientApp with that bridge in place
of the Python package's `local_round`: the ServerApp, the strategy and the messages are
unchanged.

    python -m fleet_app.qemu_bridge --devices 2 --rounds 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from flwr.app import ArrayRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp

import microtrain as mt
from fleet_app import devices
from fleet_app.config import settings

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware" / "qemu"
ELF = FIRMWARE / "target" / "thumbv7em-none-eabihf" / "release" / "fleet-device"
TIMEOUT_S = 120


class DeviceError(RuntimeError):
    """The emulated device failed a round; the message holds its log."""


def build_firmware() -> Path:
    """Builds the fleet-device firmware (release, Cortex-M4F); returns the ELF's path."""
    r = subprocess.run(
        ["cargo", "build", "--release", "-q", "--bin", "fleet-device"],
        cwd=FIRMWARE, capture_output=True, text=True,
    )
    if r.returncode != 0:
        raise DeviceError(f"building firmware/qemu's fleet-device failed:\n{r.stderr}")
    return ELF


def qemu_missing() -> str | None:
    """Why QEMU devices cannot run here, or None."""
    if shutil.which("qemu-system-arm") is None:
        return "qemu-system-arm is not installed (scripts/setup installs it: apt-get install qemu-system-arm)"
    return None


class QemuDevice:
    """One emulated board (a QEMU process per round, as a board wakes per round)."""

    def __init__(self, elf: Path = ELF):
        why = qemu_missing()
        if why:
            raise DeviceError(why)
        if not Path(elf).exists():
            raise DeviceError(f"{elf}: no firmware (build_firmware() builds it)")
        self.elf = Path(elf)

    def train_round(self, params: np.ndarray, dev: devices.Device, start: int, windows: int) -> np.ndarray:
        """The device's round on the board: the global `params` in, its weights out."""
        model = devices.new_model()
        model.set_params(params)
        with tempfile.TemporaryDirectory(prefix="fleet-device-") as d:
            Path(d, "in.mtm").write_bytes(model.to_bytes())
            args = (f"in=in.mtm out=out.mtm seed={dev.seed} change_at={dev.change_at} "
                    f"start={start} windows={windows}")
            cmd = ["qemu-system-arm", "-machine", "mps2-an386", "-display", "none", "-monitor", "none",
                   "-semihosting-config", "enable=on,target=native", "-kernel", str(self.elf),
                   "-append", args]
            try:
                r = subprocess.run(cmd, cwd=d, capture_output=True, timeout=TIMEOUT_S)
            except subprocess.TimeoutExpired as e:
                raise DeviceError(f"device {dev.pid}: QEMU did not finish in {TIMEOUT_S} s") from e
            if r.returncode != 0:
                raise DeviceError(f"device {dev.pid}: firmware exit status {r.returncode}: "
                                  f"{self._decode(r.stdout)}")
            model.load_bytes(Path(d, "out.mtm").read_bytes())
        return model.get_params()

    def _decode(self, frames: bytes) -> str:
        """The firmware's defmt log as text (when defmt-print is installed)."""
        if shutil.which("defmt-print") is None:
            return f"{len(frames)} bytes of defmt log (install defmt-print to read them)"
        r = subprocess.run(["defmt-print", "-e", str(self.elf), "--log-format", "{L} {s}"],
                           input=frames, capture_output=True)
        return r.stdout.decode(errors="replace").strip()


def make_qemu_client_app(elf: Path = ELF, overrides: Mapping[str, Any] | None = None) -> ClientApp:
    """The fleet's ClientApp with each round trained on an emulated board."""
    app = ClientApp()

    def device(context: Context) -> tuple[devices.Device, dict[str, Any]]:
        cfg = settings(context.run_config, overrides)
        total = int(cfg["num-server-rounds"]) * int(cfg["windows-per-round"])
        return devices.Device(int(context.node_config["partition-id"]), total), cfg

    @app.train()
    def train(msg: Message, context: Context) -> Message:
        dev, cfg = device(context)
        per_round = int(cfg["windows-per-round"])
        server_round = int(msg.content["config"]["server-round"])
        (params,) = msg.content["arrays"].to_numpy_ndarrays()
        new = QemuDevice(elf).train_round(np.asarray(params, np.float32), dev,
                                          (server_round - 1) * per_round, per_round)
        metrics = MetricRecord({"num-examples": len(range(0, per_round, devices.LABEL_EVERY)),
                                "checksum": mt.checksum(new)})
        content = RecordDict({"arrays": ArrayRecord([new]), "metrics": metrics})
        return Message(content=content, reply_to=msg)

    @app.evaluate()
    def evaluate(msg: Message, context: Context) -> Message:
        dev, _ = device(context)
        (params,) = msg.content["arrays"].to_numpy_ndarrays()
        x, y = dev.holdout()
        metrics = MetricRecord({"num-examples": len(y), "accuracy": devices.evaluate_params(params, x, y)})
        return Message(content=RecordDict({"metrics": metrics}), reply_to=msg)

    return app


def simulate_on_qemu(num_devices: int, **overrides: Any) -> dict[str, Any]:
    """The federation with every device's training on QEMU; the server's summary."""
    from flwr.simulation import run_simulation

    from fleet_app.server_app import make_server_app

    elf = build_firmware()
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    overrides = {k.replace("_", "-"): v for k, v in overrides.items()}
    overrides["results-file"] = path
    try:
        run_simulation(
            server_app=make_server_app(overrides),
            client_app=make_qemu_client_app(elf, overrides),
            num_supernodes=num_devices,
            backend_config={"client_resources": {"num_cpus": 1, "num_gpus": 0.0}},
        )
        text = Path(path).read_text()
    finally:
        os.unlink(path)
    if not text:
        raise DeviceError("the federation wrote no summary (see Flower's log above)")
    return json.loads(text)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--devices", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2)
    a = p.parse_args()
    print(json.dumps(simulate_on_qemu(a.devices, num_server_rounds=a.rounds)))


if __name__ == "__main__":
    main()
