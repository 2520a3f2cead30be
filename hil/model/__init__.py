"""Networks: layers, their validation, shapes, MAC counts and files.

Only Layer and Network are imported eagerly: the reference imports this
package, and the loaders import the reference. Everything else resolves on
first use.
"""

from importlib import import_module

from hil.model.layer import Layer, Network

_LAZY = {
    "load_model": "hil.model.io",
    "load_model_file": "hil.model.io",
    "save_model": "hil.model.io",
    "validate_network": "hil.model.validate",
    "infer_shapes": "hil.model.validate",
    "model_hash": "hil.model.hashing",
    "build_example": "hil.model.examples",
    "example_inputs": "hil.model.examples",
    "EXAMPLES": "hil.model.examples",
    "import_cmsis_cifar10_example": "hil.model.cmsis_import",
}

__all__ = ["Layer", "Network", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hil.model' has no attribute '{name}'")
