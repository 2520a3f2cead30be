"""TFLite Micro's interpreter as the s8 family's oracle (hil.model.tflite.micro)."""

from hil.model.tflite.micro import interpreter, run

__all__ = ["interpreter", "run"]
