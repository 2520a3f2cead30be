"""Verdicts: device output against the host reference, layer by layer, plus what a
verdict rests on (counts and their labels, baselines, resumed runs, conformance)."""
