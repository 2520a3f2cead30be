"""`hil import`: a trained float ONNX model in, a q7 CMSIS-NN network out.

graph.py reads the ONNX graph into float ops (ops.py), calibrate.py and
quantise.py choose power-of-two formats and shifts, kernel_choice.py picks
each layer's function, layout.py moves the weights to the C layouts, build.py
puts it together and evaluate.py measures what quantisation cost per layer.
"""

from hil.model.importer.build import ImportResult, import_onnx

__all__ = ["ImportResult", "import_onnx"]
