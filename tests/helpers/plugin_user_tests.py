"""The test file a user's project writes against the hil pytest plugin: one test that
needs only the network, three that need a board and its device. Shared by
tests/unit/test_pytest_plugin.py and tests/integration/test_pytest_plugin_qemu.py."""

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
