"""Verdicts: device output against the host reference, layer by layer, folded into
the run report (as data), and what else a verdict rests on: baselines, resumed
runs, golden-vector conformance, vectors shared over several devices."""
