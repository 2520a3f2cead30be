"""TensorFlow Lite flatbuffers as plain data: read (``hil import``), write (test models).

The schema comes from the ``tflite-micro`` package (the ``tflite`` extra), the
runtime whose reference kernels the s8 family is held to.
"""
