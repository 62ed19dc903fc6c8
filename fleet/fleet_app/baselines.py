"""What the federation is compared with, on the same devices, windows and held-out set:
each device learning alone (the firmware as it is), and one model trained centrally on
the pooled labelled windows of every device (what shipping raw data would allow)."""

from __future__ import annotations

import numpy as np

from fleet_app import devices


def alone(num_devices: int, rounds: int, per_round: int, seed: int) -> list[float]:
    """Each device trains its own model on all its labelled windows, never sharing;
    returns each one's accuracy on the pooled held-out windows of the fleet."""
    hx, hy = devices.pooled_holdout(num_devices)
    out = []
    for pid in range(num_devices):
        dev = devices.Device(pid, rounds * per_round)
        x, y, _ = dev.windows(0, rounds * per_round)
        m = devices.new_model(seed)
        m.train_samples(x[:: devices.LABEL_EVERY], y[:: devices.LABEL_EVERY])
        out.append(devices.accuracy(m, hx, hy))
    return out


def centralised(num_devices: int, rounds: int, per_round: int, seed: int) -> float:
    """One model trained online on every device's labelled windows, in time order
    (round by round, device by device); its accuracy on the pooled held-out windows."""
    hx, hy = devices.pooled_holdout(num_devices)
    streams = [
        devices.Device(pid, rounds * per_round).windows(0, rounds * per_round)[:2]
        for pid in range(num_devices)
    ]
    m = devices.new_model(seed)
    for r in range(rounds):
        for x, y in streams:
            part = slice(r * per_round, (r + 1) * per_round)
            xs, ys = x[part], y[part]
            m.train_samples(xs[:: devices.LABEL_EVERY], ys[:: devices.LABEL_EVERY])
    return devices.accuracy(m, hx, hy)


def summary(accs: list[float]) -> dict[str, float]:
    """Mean, min and max."""
    a = np.asarray(accs)
    return {"mean": float(a.mean()), "min": float(a.min()), "max": float(a.max())}
