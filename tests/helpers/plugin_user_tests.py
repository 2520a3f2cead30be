"""The test files a user's project writes against the hil pytest plugin. USER_TESTS (q7,
lenet5): one test that needs only the network, three that need a board and its device.
S8_USER_TESTS (an s8 model file): two that need no board, two that need the device;
S8_MISMATCH_TEST must fail on a device. Shared by tests/unit/test_pytest_plugin.py and
tests/integration/test_pytest_plugin_qemu.py."""

USER_TESTS = """
import numpy as np
from hil.model.inputs import generated_inputs


def test_network_needs_no_board(hil_network):
    assert hil_network.name == "lenet5"


def test_board(hil_board):
    assert hil_board.id == "qemu-m7"


def test_every_layer_matches_the_reference(hil_device, hil_reference, hil_network):
    assert hil_device.info.board_id == "qemu-m7" and hil_device.info.model_name == "lenet5"
    for x in generated_inputs(hil_network, 2, 7):
        got = hil_device.session.infer(x, dump="all")
        want = hil_reference(x)
        assert len(got) == len(want) == len(hil_network.layers)
        for g, w in zip(got, want):
            assert g.status == 0 and np.array_equal(g.output, w), g.index


def test_the_session_is_shared(hil_device, hil_reference):
    assert hil_device.session.info is not None
"""


# The same for an s8 model file named "cnn" (tests/helpers/s8_model_file.py): float
# inputs quantised with the network's input quantisation, and int8 taken directly.
S8_USER_TESTS = """
import numpy as np
from hil.model.s8 import S8Network


def test_network_is_s8(hil_network):
    assert isinstance(hil_network, S8Network) and hil_network.name == "cnn"


def test_reference_needs_no_board(hil_network, hil_reference):
    x = np.zeros(hil_network.input_shape, dtype=np.int8)
    assert len(hil_reference(x)) == len(hil_network.layers)


def test_float_input_every_layer_matches(hil_device, hil_reference, hil_network):
    assert hil_device.info.family == "s8" and hil_device.info.model_name == "cnn"
    rng = np.random.default_rng(5)
    for _ in range(2):
        x = hil_network.input_quant.quantise(rng.normal(0, 1, hil_network.input_shape))
        got, want = hil_device.session.infer(x, dump="all"), hil_reference(x)
        assert len(got) == len(want) == len(hil_network.layers)
        for g, w in zip(got, want):
            assert g.status == 0 and np.array_equal(g.output, w), g.index


def test_int8_input_matches(hil_device, hil_reference, hil_network):
    x = np.random.default_rng(6).integers(-128, 128, hil_network.input_shape, dtype=np.int8)
    got = hil_device.session.infer(x, dump="all")
    assert all(np.array_equal(g.output, w) for g, w in zip(got, hil_reference(x)))
"""

# A test that must fail: the device runs one input, the reference another, so some
# layer differs and the user's assertion reports it.
S8_MISMATCH_TEST = """
import numpy as np


def test_other_input_mismatches(hil_device, hil_reference, hil_network):
    x = np.full(hil_network.input_shape, 40, dtype=np.int8)
    got, want = hil_device.session.infer(x, dump="all"), hil_reference(-x)
    assert len(got) == len(want) == len(hil_network.layers)
    for g, w in zip(got, want):
        assert np.array_equal(g.output, w), f"layer {g.index} differs"
"""
