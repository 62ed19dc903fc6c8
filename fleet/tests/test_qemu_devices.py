"""Devices in the loop: the fleet-device firmware on QEMU's Cortex-M4F as Flower clients.
Needs qemu-system-arm (scripts/setup installs it); fails, naming it, when it is missing."""

import sys
from pathlib import Path

import numpy as np
import pytest

import microtrain as mt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fleet_app import devices, qemu_bridge  # noqa: E402
from fleet_app.run import simulate  # noqa: E402


@pytest.fixture(scope="module")
def elf():
    why = qemu_bridge.qemu_missing()
    if why:
        pytest.fail(f"the QEMU device tests cannot run: {why}")
    return qemu_bridge.build_firmware()


@pytest.mark.parametrize("pid,start", [(0, 0), (2, 40), (4, 160), (4, 360)])
def test_the_board_returns_the_python_packages_weights_bit_for_bit(elf, pid, start):
    dev = devices.Device(pid, 400)
    params = devices.new_model(42).get_params()
    params += np.float32(0.01) * np.sin(np.arange(params.size, dtype=np.float32))
    on_board = qemu_bridge.QemuDevice(elf).train_round(params, dev, start, 40)
    x, y, _ = dev.windows(start, 40)
    in_python, steps, _, _ = devices.local_round(params, x, y, seed=dev.seed)
    assert steps == 20
    assert on_board.dtype == np.float32
    assert np.array_equal(on_board.view(np.uint32), in_python.view(np.uint32))
    assert mt.checksum(on_board) != mt.checksum(params)


def test_a_model_file_of_another_shape_is_refused_with_the_reason(elf, monkeypatch):
    other = mt.Model(9, "3:identity")
    monkeypatch.setattr(devices, "new_model", lambda seed=0: other.copy())
    with pytest.raises(qemu_bridge.DeviceError, match=r"is not the size of the stream model's \(9-16-3\)"):
        qemu_bridge.QemuDevice(elf).train_round(other.get_params(), devices.Device(0, 80), 0, 40)


def test_two_qemu_devices_federate_to_the_same_bits_as_python_devices(elf):
    on_qemu = qemu_bridge.simulate_on_qemu(2, num_server_rounds=2, seed=42)
    in_python = simulate(2, num_server_rounds=2, seed=42)
    assert on_qemu["rounds"] == 2 and on_qemu["devices"] == 2
    assert on_qemu["final_checksum"] == in_python["final_checksum"]
    assert on_qemu["accuracy_per_round"] == in_python["accuracy_per_round"]
    assert on_qemu["accuracy_per_round"][-1] > on_qemu["accuracy_per_round"][0]
