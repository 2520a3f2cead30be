"""--verbose names where each setting came from, through a real `hil build`
(arm-none-eabi-gcc). The rest of the command line's own behaviour:
tests/unit/test_cli_settings.py."""

from __future__ import annotations

import pytest

from hil.cli import main


@pytest.mark.needs_arm_gcc
def test_verbose_says_where_each_setting_came_from(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("HIL_MODEL", "lenet5")
    monkeypatch.setenv("HIL_BUILD_DIR", str(tmp_path))
    monkeypatch.delenv("HIL_CMSIS_NN", raising=False)
    code = main(["-v", "build", "--board", "qemu-m3"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "setting board = qemu-m3 from command line (--board)" in err
    assert "setting model = lenet5 from environment ($HIL_MODEL)" in err
    assert f"setting build_dir = {tmp_path} from environment ($HIL_BUILD_DIR)" in err
    assert "setting cmsis_nn = None from nowhere" in err
    assert any(tmp_path.rglob("firmware.elf"))
