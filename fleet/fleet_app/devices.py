"""The simulated devices of the fleet, with microtrain's arithmetic and nothing of Flower.

Device `pid` (Flower's `partition-id`) runs the stream scenario's application: the
seeded simulated accelerometer (run seed `1000 + pid`), 32-sample windows, the 9-16-3
model, one Adam step per labelled window. Who wears it and how it is mounted is its
drift, decided by `pid % 5`:

- 0, 1: the first user, first mounting, all the time;
- 2, 3: the second user, the other mounting (axes rotated, gain -10 %), all the time;
- 4: the first user, then the second from half-way through the run.

So no device sees everything, but the fleet does: a device that learns alone knows only
its own users; the federated model knows both.

Held-out windows: each device also has a held-out stream (another seed) with both
users, half each; the server evaluates on those of every device, pooled, and each
client on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import microtrain as mt

SEED_BASE = 1000
HOLDOUT_SEED_BASE = 500_000
NEVER = 2**32 - 1
HOLDOUT_WINDOWS = 40
LABEL_EVERY = mt.STREAM_LABEL_EVERY


@dataclass(frozen=True)
class Device:
    """One simulated device: its seed and its drift."""

    pid: int
    total_windows: int

    @property
    def seed(self) -> int:
        return SEED_BASE + self.pid

    @property
    def kind(self) -> str:
        return ["first user", "first user", "second user", "second user", "switches"][self.pid % 5]

    @property
    def change_at(self) -> int:
        k = self.pid % 5
        if k < 2:
            return NEVER
        if k < 4:
            return 0
        return self.total_windows // 2

    def windows(self, start: int, n: int):
        """Windows `start .. start + n` of the device's stream: features, truth, changed."""
        s = mt.SimStream(self.seed, change_at=self.change_at)
        if start:
            s.windows(start)
        return s.windows(n)

    def holdout(self, n: int = HOLDOUT_WINDOWS):
        """The device's held-out windows: both users, half each."""
        return mt.SimStream(HOLDOUT_SEED_BASE + self.pid, change_at=n // 2).windows(n)[:2]


def new_model(seed: int = 0) -> mt.Model:
    """The stream scenario's model (what the firmware trains), initialised from `seed`."""
    return mt.Model.stream(seed)


def local_round(params: np.ndarray, x: np.ndarray, y: np.ndarray, seed: int = 0):
    """One round on a device: the global `params`, a fresh Adam, one step per labelled
    window (every LABEL_EVERY-th, in stream order). Returns the new parameters, the
    number of steps, the mean loss, and the accuracy of the received model on the
    round's windows (measured before training on them)."""
    m = new_model(seed)
    m.set_params(params)
    acc = accuracy(m, x, y)
    losses = m.train_samples(x[::LABEL_EVERY], y[::LABEL_EVERY])
    return m.get_params(), len(losses), float(losses.mean()), acc


def accuracy(m: mt.Model, x: np.ndarray, y: np.ndarray) -> float:
    """Share of windows whose class `m` predicts right."""
    return float((m.predict(x).argmax(axis=1) == y).mean())


def pooled_holdout(num_devices: int):
    """The held-out windows of devices 0 .. num_devices - 1, pooled."""
    parts = [Device(pid, 0).holdout() for pid in range(num_devices)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def evaluate_params(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Accuracy of a model with `params` on windows `x` with classes `y`."""
    m = new_model()
    m.set_params(params)
    return accuracy(m, x, y)
