"""The one seam to the TFLite flatbuffer schema (``tflite_micro``'s generated module).

Only this module imports it, so a missing extra gives one clear error and a
schema change breaks in one place (tests/unit/test_tflite_schema_seam.py).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from hil.errors import ConfigError

INSTALL_HINT = "install the tflite extra: pip install 'hil[tflite]'"
FILE_IDENTIFIER = b"TFL3"


def runtime(need: str = "reading TFLite models") -> ModuleType:
    """tflite_micro's runtime module (its interpreter and the schema)."""
    try:
        from tflite_micro.python.tflite_micro import runtime
    except ImportError as exc:
        raise ConfigError(f"{need} needs the tflite-micro package", hint=INSTALL_HINT) from exc
    return runtime


def schema() -> ModuleType:
    """The generated schema module (object API: ModelT, SubGraphT, ...)."""
    return runtime().schema_fb


def enum_names(enum: Any) -> dict[int, str]:
    """value -> NAME of a generated flatbuffers enum class."""
    return {v: k for k, v in vars(enum).items() if not k.startswith("_") and isinstance(v, int)}
