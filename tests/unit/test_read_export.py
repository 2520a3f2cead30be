"""`--export DIR`: a user's export folder, read back and checked before any build."""

from __future__ import annotations

from pathlib import Path

import pytest

from hil.cli.option_groups import user_export
from hil.errors import ConfigError
from hil.export.files import build_export, read_export, write_export

from helpers.tiny_network import tiny_network


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_export(build_export(tiny_network(), "mynet"), tmp_path / "mynet")
    return tmp_path / "mynet"


def test_an_unedited_export_reads_back_byte_for_byte(folder):
    written = build_export(tiny_network(), "mynet")
    read = read_export(folder, tiny_network())
    assert read.name == "mynet" and read.backend == "portable"
    assert read.files == written.files and read.hash == written.hash


def test_an_edited_file_is_refused(folder):
    with open(folder / "mynet.c", "a") as f:
        f.write("/* tuned by hand */\n")
    with pytest.raises(ConfigError, match=r"mynet\.c was changed since it was exported"):
        read_export(folder, tiny_network())


def test_a_missing_file_is_refused(folder):
    (folder / "kernels" / "src" / "arm_relu_q7.c").unlink()
    with pytest.raises(ConfigError, match=r"kernels/src/arm_relu_q7\.c is missing"):
        read_export(folder, tiny_network())


def test_an_export_of_another_model_is_refused(folder):
    with pytest.raises(ConfigError, match=r"is an export of model 'tiny' .* not of tiny"):
        read_export(folder, tiny_network(seed=1))


def test_a_folder_that_is_not_an_export_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a hil export"):
        read_export(tmp_path, tiny_network())
    with pytest.raises(ConfigError, match="is not a folder"):
        read_export(tmp_path / "nope", tiny_network())


def test_the_backend_must_match_the_build(folder, tmp_path):
    with pytest.raises(ConfigError, match="exported for the portable kernels") as err:
        user_export(folder, tiny_network(), tmp_path / "cmsis")
    assert "drop --cmsis-nn" in (err.value.hint or "")
    assert user_export(folder, tiny_network(), None).name == "mynet"
    assert user_export(None, tiny_network(), None) is None
