"""Networks: layers, their validation, shapes, MAC counts and files."""

from hil.model.layer import Layer, Network

__all__ = ["Layer", "Network"]
