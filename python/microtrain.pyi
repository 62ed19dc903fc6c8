"""microtrain: train small neural networks with the arithmetic of the microcontroller
runtime, bit for bit (the Rust core through PyO3). Arrays are numpy float32."""

from typing import Any, Optional, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
FEATURES: int
"""Features per window of the stream scenario (9)."""
CLASSES: int
"""Activities the stream scenario's model tells apart (3)."""
STREAM_LAYERS: str
"""The stream scenario's layers after its 9 inputs, "16:relu,3:identity"."""
STREAM_LR: float
"""The stream scenario's Adam learning rate (0.02 as float32)."""
STREAM_WINDOWS: int
STREAM_CHANGE_AT: int
STREAM_LABEL_EVERY: int

class Error(ValueError):
    """A rejected input, setting or file; the message names what and where.
    Nothing was changed."""

ArrayLike = Union[npt.ArrayLike, np.ndarray]

class Model:
    """A stack of layers (dense, 1-d convolutions, pooling) with its loss, optimizer
    and training state."""

    def __init__(
        self,
        inputs: int,
        layers: str,
        loss: str = "softmax_cross_entropy",
        optimizer: str = "adam",
        seed: int = 0,
        schedule: str = "constant",
        clip_norm: Optional[float] = None,
        *,
        input_channels: int = 1,
        **hyperparameters: Union[float, bool],
    ) -> None:
        """`layers` as the simulator's --layers: "16:relu,3:identity" (dense layers,
        OUTPUTS:ACTIVATION), and over inputs of `input_channels` channels (each row
        `[channels][length]`, channel-major as PyTorch's `[N, C, L]` flattened) the
        sequence layers conv1d:OUT:KERNEL:STRIDE:none|same:ACTIVATION, maxpool:K[:S],
        avgpool:K[:S], gap (global average pool) and flatten, e.g.
        "conv1d:8:5:1:none:relu,maxpool:2,gap,3:identity" with input_channels=3. A bad
        spec raises Error naming the layer ("layers: layer 2: ..."). Losses: mse,
        binary_cross_entropy, softmax_cross_entropy. Optimizers: the core's registry
        (sgd, adagrad, adadelta, rmsprop, adam, adamw, radam), with PyTorch's
        hyperparameter names and defaults (lr=..., momentum=..., nesterov=True, ...).
        `schedule` as the simulator's --schedule ("exponential:gamma=0.99",
        "step:step_size=N,gamma=G", "inverse_time:decay=D"); `clip_norm` clips the
        gradient's global L2 norm. The weights are drawn from `seed` as on a device."""
    @staticmethod
    def stream(seed: int) -> "Model":
        """The stream scenario's model, initialised from `seed` as the firmware does."""
    @staticmethod
    def load(
        path: str,
        loss: Optional[str] = None,
        optimizer: str = "adam",
        **hyperparameters: Union[float, bool],
    ) -> "Model":
        """A model from a `.mtm` or `.json` file, with a fresh optimizer."""
    def train_sample(self, x: ArrayLike, y: Union[int, ArrayLike]) -> float:
        """One optimizer step on one sample; the loss before it. `y`: a class index
        or the target values. A rejected sample changes nothing."""
    def train_samples(self, x: ArrayLike, y: ArrayLike) -> npt.NDArray[np.float32]:
        """One step per row of `x`, in order; the losses. All or nothing."""
    def train_batch(self, x: ArrayLike, y: ArrayLike) -> float:
        """One step on the rows of `x` as one batch; the mean loss before it."""
    def predict(self, x: ArrayLike) -> npt.NDArray[np.float32]:
        """Outputs for one input (1-D) or each row of `x` (2-D)."""
    def get_params(self) -> npt.NDArray[np.float32]:
        """A copy of the parameters (per layer W row-major, then b)."""
    def set_params(self, params: ArrayLike) -> None:
        """Replace the parameters; the optimizer state and step count are kept."""
    def get_optimizer_state(self) -> npt.NDArray[np.float32]:
        """A copy of the optimizer state."""
    def init_params(self, seed: int) -> None:
        """Re-draw the parameters from `seed`; reset the optimizer."""
    def reset_optimizer(self) -> None:
        """Reset the optimizer state and step count."""
    def to_bytes(self) -> bytes:
        """The core's binary model file (.mtm)."""
    def load_bytes(self, data: bytes) -> None:
        """Replace the parameters by those of a .mtm file of the same shape."""
    def save(self, path: str) -> None:
        """Write the model atomically: JSON if `path` ends in .json, else .mtm."""
    def checksum(self) -> int:
        """FNV-1a of the parameters' bits (what the simulator and firmware print)."""
    def copy(self) -> "Model":
        """An independent copy."""
    @property
    def inputs(self) -> int: ...
    @property
    def outputs(self) -> int: ...
    @property
    def num_params(self) -> int: ...
    @property
    def steps(self) -> int:
        """Optimizer steps taken."""
    @property
    def rejected_steps(self) -> int:
        """Steps rejected for a non-finite loss or gradient."""
    @property
    def loss(self) -> str: ...
    @property
    def optimizer(self) -> str: ...
    @property
    def hyperparameters(self) -> dict[str, Any]: ...
    @property
    def schedule(self) -> str: ...
    @property
    def clip_norm(self) -> Optional[float]: ...
    @property
    def shape(self) -> str:
        """e.g. "9-16-3 (relu, identity)"."""

class SimStream:
    """The stream scenario's simulated accelerometer for run seed `seed`, screened
    and windowed as on the device; the user and mounting change at `change_at`."""

    def __init__(self, seed: int, change_at: int = 300) -> None: ...
    def next_window(self) -> Tuple[npt.NDArray[np.float32], int]:
        """The next window's features and true class."""
    def windows(
        self, n: int
    ) -> Tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The next `n` windows: features (n, 9), true classes, second-regime flags."""
    @property
    def position(self) -> int: ...
    @property
    def bad_counts(self) -> dict[str, int]: ...

def checksum(values: ArrayLike) -> int:
    """FNV-1a over the bits of float32 `values`."""
