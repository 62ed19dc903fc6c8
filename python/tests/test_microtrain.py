"""Tests of the Python package: bit-identity with the Rust simulator, errors, files."""

import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

import microtrain as mt

REPO = Path(__file__).resolve().parents[2]


def rust_stream_checksum(seed: int) -> int:
    """The checksum `microtrain-sim stream` prints for `seed` (the Rust simulator)."""
    out = subprocess.run(
        ["cargo", "run", "--release", "-q", "-p", "microtrain-sim", "--", "stream", "--seed", str(seed)],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout
    m = re.search(r"^checksum 0x([0-9a-f]{8})$", out, re.M)
    assert m, out
    return int(m.group(1), 16)


def python_stream_checksum(seed: int) -> int:
    """The stream scenario run from Python: a model built by name, the simulated sensor,
    one train_sample per labelled window."""
    model = mt.Model(9, "16:relu,3:identity", loss="softmax_cross_entropy", optimizer="adam",
                     lr=0.02, seed=seed)
    stream = mt.SimStream(seed, change_at=mt.STREAM_CHANGE_AT)
    for w in range(mt.STREAM_WINDOWS):
        x, truth = stream.next_window()
        if w % mt.STREAM_LABEL_EVERY == 0:
            model.train_sample(x, truth)
    assert model.steps == mt.STREAM_WINDOWS // mt.STREAM_LABEL_EVERY
    return model.checksum()


@pytest.mark.parametrize("seed", [42, 7])
def test_stream_checksum_equals_the_rust_simulators(seed):
    py = python_stream_checksum(seed)
    assert py == rust_stream_checksum(seed)
    if seed == 42:
        assert py == 0x82C52083  # the figure in README.md and the firmware's log


def test_batched_windows_and_train_samples_give_the_same_bits():
    stream = mt.SimStream(3)
    x, y, changed = stream.windows(600)
    assert x.dtype == np.float32 and x.shape == (600, 9)
    assert not changed[:300].any() and changed[300:].all()
    a = mt.Model.stream(3)
    losses = a.train_samples(x[::2], y[::2])
    assert losses.shape == (300,) and np.isfinite(losses).all()
    b = mt.Model.stream(3)
    for xi, yi in zip(x[::2], y[::2]):
        b.train_sample(xi, int(yi))
    assert a.checksum() == b.checksum()
    np.testing.assert_array_equal(a.get_optimizer_state(), b.get_optimizer_state())
    # Learned: most of the last 100 windows (second regime) predicted right.
    pred = a.predict(x[-100:]).argmax(axis=1)
    assert (pred == y[-100:]).mean() >= 0.8


def test_a_rejected_sample_leaves_the_model_unchanged():
    m = mt.Model.stream(1)
    x, t = mt.SimStream(1).next_window()
    m.train_sample(x, t)
    params, state, steps = m.get_params(), m.get_optimizer_state(), m.steps
    bad = x.copy()
    bad[4] = np.nan
    with pytest.raises(mt.Error, match="sample 0: input 4 is not finite"):
        m.train_sample(bad, t)
    with pytest.raises(mt.Error, match=r"label 3 is out of range \(0..3\)"):
        m.train_sample(x, 3)
    with pytest.raises(mt.Error, match="8 inputs, the model takes 9"):
        m.train_sample(x[:8], 0)
    with pytest.raises(mt.Error, match="label -1 of sample 0"):
        m.train_sample(x, -1)
    # Several rows, the last one bad: none is applied, and the row is named.
    rows = np.stack([x, x, x])
    rows[2, 0] = np.inf
    with pytest.raises(mt.Error, match="sample 2: input 0 is not finite"):
        m.train_samples(rows, [0, 1, 2])
    with pytest.raises(mt.Error, match="sample 1: input 0 is not finite"):
        m.train_batch(rows[1:], [0, 1])
    with pytest.raises(mt.Error, match="^params: 5 values given for the Params buffer, which holds 211"):
        m.set_params(np.zeros(5, np.float32))
    nan_params = params.copy()
    nan_params[7] = np.nan
    with pytest.raises(mt.Error):
        m.set_params(nan_params)
    assert np.array_equal(m.get_params(), params)
    assert np.array_equal(m.get_optimizer_state(), state)
    assert m.steps == steps
    assert isinstance(mt.Error("x"), ValueError)


def test_bad_settings_name_the_option():
    with pytest.raises(mt.Error, match='unknown optimizer "adamx"'):
        mt.Model(4, "3:identity", optimizer="adamx")
    with pytest.raises(mt.Error, match="^momentum: no such hyperparameter of optimizer adam"):
        mt.Model(4, "3:identity", momentum=0.9)
    with pytest.raises(mt.Error, match="^lr: "):
        mt.Model(4, "3:identity", lr=-1.0)
    with pytest.raises(mt.Error, match='layer 2: unknown activation "swish"'):
        mt.Model(4, "8:relu,3:swish")
    with pytest.raises(mt.Error, match="^model: loss SoftmaxCrossEntropy cannot follow a Relu"):
        mt.Model(4, "3:relu", loss="softmax_cross_entropy")
    with pytest.raises(mt.Error, match='unknown loss "hinge"'):
        mt.Model(4, "3:identity", loss="hinge")
    with pytest.raises(mt.Error, match='unknown schedule "cosine"'):
        mt.Model(4, "3:identity", schedule="cosine")
    with pytest.raises(mt.Error, match="^clip_norm: "):
        mt.Model(4, "3:identity", clip_norm=0.0)
    m = mt.Model(4, "3:identity", schedule="step:step_size=10,gamma=0.5", clip_norm=1.0)
    assert (m.schedule, m.clip_norm) == ("step:step_size=10,gamma=0.5", 1.0)
    with pytest.raises(mt.Error, match=r"x: shape \[2, 8\], the model takes \(4,\) or \(rows, 4\)"):
        m.predict(np.zeros((2, 8)))
    with pytest.raises(mt.Error, match=r"x: shape \[8\]"):
        m.train_samples(np.zeros(8), [0, 1])
    with pytest.raises(mt.Error, match="y: 3 labels for 2 samples"):
        m.train_batch(np.zeros((2, 4)), [0, 1, 2])
    assert m.steps == 0


def test_a_schedule_and_clipping_change_the_steps():
    x, y, _ = mt.SimStream(2).windows(40)
    plain = mt.Model.stream(2)
    sched = mt.Model(9, mt.STREAM_LAYERS, lr=mt.STREAM_LR, seed=2, schedule="exponential:gamma=0.9")
    clipped = mt.Model(9, mt.STREAM_LAYERS, lr=mt.STREAM_LR, seed=2, clip_norm=0.01)
    for m in (plain, sched, clipped):
        m.train_samples(x, y)
    assert len({plain.checksum(), sched.checksum(), clipped.checksum()}) == 3
    # Decayed to 0.9^40 of the rate: the last steps move the weights far less.
    moved = [np.abs(m.get_params() - mt.Model.stream(2).get_params()).sum() for m in (plain, sched)]
    assert moved[1] < moved[0]


def test_every_optimizer_and_loss_by_name_learns_a_toy_problem():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    for name, lr in [("sgd", 0.5), ("adagrad", 0.5), ("adadelta", 10.0), ("rmsprop", 0.01),
                     ("adam", 0.05), ("adamw", 0.05), ("radam", 0.05)]:
        m = mt.Model(2, "8:tanh,2:identity", optimizer=name, lr=lr, seed=1)
        assert m.optimizer == name and m.hyperparameters["lr"] == pytest.approx(lr)
        for _ in range(40):
            m.train_batch(x, y)
        acc = (m.predict(x).argmax(axis=1) == y).mean()
        assert acc >= 0.9, (name, acc)
    # Regression and binary outputs take float targets.
    m = mt.Model(2, "1:identity", loss="mse", optimizer="sgd", lr=0.1, seed=0)
    target = (2 * x[:, :1] - x[:, 1:]).astype(np.float32)
    first = m.train_batch(x, target)
    for _ in range(200):
        last = m.train_batch(x, target)
    assert last < 0.01 * first
    m = mt.Model(2, "1:sigmoid", loss="binary_cross_entropy", optimizer="sgd", lr=0.5)
    m.train_sample(x[0], np.array([1.0], np.float32))
    assert m.steps == 1


def test_model_files_round_trip_bit_for_bit(tmp_path):
    m = mt.Model.stream(5)
    m.train_samples(*mt.SimStream(5).windows(20)[:2])
    for name in ["m.mtm", "m.json"]:
        path = str(tmp_path / name)
        m.save(path)
        back = mt.Model.load(path, loss="softmax_cross_entropy")
        assert back.shape == "9-16-3 (relu, identity)"
        assert back.checksum() == m.checksum()
    assert mt.Model.load(str(tmp_path / "m.json")).loss == "softmax_cross_entropy"
    with pytest.raises(mt.Error, match="names no loss"):
        mt.Model.load(str(tmp_path / "m.mtm"))
    data = m.to_bytes()
    assert data[:4] == b"MTRN" and len(data) == len((tmp_path / "m.mtm").read_bytes())
    fresh = mt.Model.stream(6)
    fresh.load_bytes(data)
    assert fresh.checksum() == m.checksum() == mt.checksum(m.get_params())
    other = mt.Model(9, "3:identity")
    with pytest.raises(mt.Error, match=r"shape 9-16-3 \(relu, identity\) is not this model's 9-3"):
        other.load_bytes(data)
    (tmp_path / "bad.json").write_text('{"format": "microtrain-model", "version": 2, "layers": []}')
    with pytest.raises(mt.Error, match="bad.json: .*version 2"):
        mt.Model.load(str(tmp_path / "bad.json"))
    with pytest.raises(mt.Error, match="cannot read"):
        mt.Model.load(str(tmp_path / "missing.mtm"))


def test_copies_are_independent_and_init_is_seeded():
    a = mt.Model.stream(9)
    b = a.copy()
    x, t = mt.SimStream(9).next_window()
    a.train_sample(x, t)
    assert a.checksum() != b.checksum() and b.steps == 0
    assert mt.Model.stream(9).checksum() == b.checksum() != mt.Model.stream(10).checksum()
    a.init_params(9)
    assert a.checksum() == b.checksum() and a.steps == 0


CNN_SPEC = "conv1d:4:3:1:same:relu,maxpool:2,conv1d:8:3:1:none:relu,gap,2:identity"


def two_frequencies(n: int, channels: int, length: int, seed: int):
    """Sequences `[channels][length]` flattened channel-major: class 0 a slow wave on
    channel 0, class 1 a fast one, both in noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    t = np.arange(length)
    x = rng.normal(scale=0.3, size=(n, channels, length))
    phase = rng.uniform(0, 2 * np.pi, size=n)
    freq = np.where(y == 0, 1.0, 4.0) / length
    x[:, 0, :] += np.sin(2 * np.pi * freq[:, None] * t[None, :] + phase[:, None])
    return x.reshape(n, channels * length).astype(np.float32), y


def test_a_cnn_from_its_spec_trains_and_its_loss_decreases():
    x, y = two_frequencies(96, 2, 16, seed=3)
    m = mt.Model(32, CNN_SPEC, input_channels=2, optimizer="adam", lr=0.02, seed=1)
    assert (m.inputs, m.outputs) == (32, 2)
    # conv 2->4 k3, conv 4->8 k3, dense 8->2: weights and biases.
    assert m.num_params == (4 * 2 * 3 + 4) + (8 * 4 * 3 + 8) + (8 * 2 + 2)
    first = m.train_batch(x, y)
    for _ in range(80):
        last = m.train_batch(x, y)
    assert last < 0.5 * first, (first, last)
    acc = (m.predict(x).argmax(axis=1) == y).mean()
    assert acc >= 0.9, acc
    # Online steps too, and the model file holds the kinds (`.mtm` version 3).
    m.train_samples(x[:8], y[:8])
    back = mt.Model(32, CNN_SPEC, input_channels=2, seed=9)
    back.load_bytes(m.to_bytes())
    assert np.array_equal(back.get_params(), m.get_params())
    # One input channel is the default: the same spec over 32 values of one channel.
    one = mt.Model(32, CNN_SPEC)
    assert one.num_params == (4 * 1 * 3 + 4) + (8 * 4 * 3 + 8) + (8 * 2 + 2)


def test_a_bad_layer_spec_raises_value_error_naming_the_layer():
    cases = [
        ("conv1d:4:3:1:same:relu,8:relu,maxpool:2,2:identity", 2,
         "^layers: layer 3: maxpool needs a sequence input"),
        ("conv1d:4:40:1:none:relu,gap,2:identity", 2,
         "^layers: layer 1: the kernel is longer than the"),
        ("conv1d:4:3:2:same:relu,gap,2:identity", 2,
         "^layers: layer 1: padding 'same' needs stride 1"),
        ("conv1d:4:3:1:same:relu,gap,2:identity", 3,
         "^layers: layer 1: 32 inputs are not 3 channels"),
        ("conv1d:4:3:1:valid:relu,gap,2:identity", 2,
         '^layers: layer 1: conv1d padding Some\\("valid"\\)'),
        ("conv1d:4:3:1:same:swish,gap,2:identity", 2,
         '^layers: layer 1: unknown activation "swish"'),
        ("conv1d:4:3:1:same:relu,gap,flatten,2:identity", 2,
         "^layers: layer 3: flatten needs a sequence input"),
        ("conv1d:4:3:1:same:relu,maxpool:x,2:identity", 2,
         '^layers: layer 2: kernel: "x" is not a layer size'),
        ("conv2d:4:3,2:identity", 2, '^layers: layer 1: "conv2d" is not a layer size'),
    ]
    for spec, channels, message in cases:
        with pytest.raises(ValueError, match=message):
            mt.Model(32, spec, input_channels=channels)
    # input_channels is keyword-only: the positional arguments are as before.
    with pytest.raises(TypeError):
        mt.Model(32, CNN_SPEC, "softmax_cross_entropy", "adam", 0, "constant", None, 2)
