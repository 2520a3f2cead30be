"""Top-1 accuracy beside bit-exactness: the float model, the q7 reference and the device.

Top-1 is the argmax of the last layer's output, ties going to the lowest class
index. The q7 reference is evaluated over the whole data set in batches before
the device run. The device's prediction for a vector follows from its verdict:
a last layer that matched the reference predicts what the reference predicts; a
mismatching one sent its tensor (dump all/mismatch) or, in digest mode, only a
CRC, and is then counted wrong (``device_unknown`` says how many). Where the run
was cut short, every figure covers the judged vectors only, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hil.errors import ConfigError
from hil.model.diagnostics import output_metrics, top1
from hil.model.layer import Network
from hil.model.npy_file import load_npy
from hil.reference.network import run_network_batch
from hil.text import plural
from hil.validate.run_report import RunReport

TIE_RULE = "top-1 is the argmax of the last layer's output; ties go to the lowest class index"
_CHUNK = 1024  # vectors per batched reference call: bounds the memory of every layer's outputs


def classes(network: Network) -> int:
    return network.layers[-1].output_size


def confusion(labels: np.ndarray, predicted: np.ndarray, n: int) -> dict[str, Any]:
    """Counts of (label, device class) over the judged vectors; a prediction that is
    unknown (-1: only a digest, and it differed) is counted apart, not in the matrix."""
    known = predicted >= 0
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (labels[known], predicted[known]), 1)
    return {
        "rows": "label",
        "columns": "device class",
        "counts": counts.tolist(),
        "unknown": int(np.sum(~known)),
    }


def check_labels(y: np.ndarray, count: int, network: Network, source: str) -> np.ndarray:
    """``y`` as int64 class ids, one per input and each a class of the last layer."""
    n = classes(network)
    if not isinstance(y, np.ndarray) or not (
        np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_
    ):
        dtype = getattr(y, "dtype", type(y).__name__)
        raise ConfigError(
            f"labels in {source} have dtype {dtype}, not integer class ids",
            hint="save the labels as integers, e.g. np.save('y.npy', y.astype(np.int64))",
        )
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1:
        raise ConfigError(
            f"labels in {source} have shape {y.shape}, expected ({count},): one class id per input",
            hint="pass class ids, not one-hot rows (np.argmax(onehot, axis=1))",
        )
    if len(y) != count:
        raise ConfigError(
            f"{source} holds {plural(len(y), 'label')} for {plural(count, 'input')}",
            hint="pass one label per input vector, in the same order",
        )
    bad = (y < 0) | (y >= n)
    if bad.any():
        i = int(np.argmax(bad))
        raise ConfigError(
            f"label {int(y[i])} (input {i}) in {source} is out of range: model "
            f"{network.name}'s last layer has {n} outputs (classes 0..{n - 1})",
            hint="labels are class indices into the last layer's output",
        )
    return y.astype(np.int64)


def load_labels(path: Path, count: int, network: Network) -> np.ndarray:
    """The labels of ``path`` (.npy), checked against the inputs and the model."""
    y = load_npy(path, "labels file", "integer class ids of shape (N,), one per input")
    return check_labels(y, count, network, str(path))


def reference_final(network: Network, x: np.ndarray, variant: str) -> np.ndarray:
    """The last layer's q7 output for every vector, (N, classes), in batches."""
    out = np.empty((len(x), classes(network)), dtype=np.int8)
    for start in range(0, len(x), _CHUNK):
        out[start : start + _CHUNK] = run_network_batch(
            network, x[start : start + _CHUNK], variant
        )[-1]
    return out


def _pct(hits: int, total: int) -> float | None:
    return None if total == 0 else 100.0 * hits / total


@dataclass
class AccuracyRun:
    """What is known before the device runs: labels, reference outputs, float outputs."""

    labels: np.ndarray
    reference: np.ndarray  # (N, classes) int8, the q7 reference's last layer
    float_output: np.ndarray | None = None  # (N, classes) float, the float model's
    out_frac_bits: int | None = None  # the last layer's Q format, to compare in float units
    out_quant: tuple[float, int] | None = None  # s8: the last layer's (scale, zero point)
    input_saturated: int | None = None  # float inputs only
    input_values: int | None = None
    float_note: str | None = None  # why there is no float figure, when there is none
    diagnostics: dict[str, Any] | None = None
    _device: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.labels)

    def device_outputs(self, report: RunReport) -> tuple[np.ndarray, np.ndarray, int]:
        """(judged vector indices, device predictions, how many were unknown).

        An unknown prediction (digest-only mismatch) is -1, which never equals a label."""
        judged = np.array(sorted(report.final_matched), dtype=np.int64)
        ref_pred = top1(self.reference)
        preds = np.full(len(judged), -1, dtype=np.int64)
        unknown = 0
        for k, j in enumerate(judged):
            if report.final_matched[int(j)]:
                preds[k] = ref_pred[j]
            elif int(j) in report.final_outputs:
                preds[k] = int(top1(report.final_outputs[int(j)][None])[0])
            else:
                unknown += 1
        return judged, preds, unknown

    def finish(self, report: RunReport) -> None:
        """Fold the device's verdicts in and attach the sections to ``report``."""
        judged, preds, unknown = self.device_outputs(report)
        y = self.labels[judged]
        ref_hits = int(np.sum(top1(self.reference)[judged] == y))
        section: dict[str, Any] = {
            "top1": TIE_RULE,
            "inputs": self.count,
            "judged": len(judged),
            "complete": bool(report.complete) and len(judged) == self.count,
            "float": None,
            "q7_reference": _pct(ref_hits, len(judged)),
            "device": _pct(int(np.sum(preds == y)), len(judged)),
            "device_unknown": unknown,
            "q7_reference_all_inputs": _pct(
                int(np.sum(top1(self.reference) == self.labels)), self.count
            ),
            "float_all_inputs": None,
            "float_note": self.float_note,
            "input_values_saturated": self.input_saturated,
            "input_values": self.input_values,
            "output_metrics": self._output_metrics(report, judged),
            "confusion": confusion(y, preds, self.reference.shape[1]),
        }
        if self.float_output is not None:
            float_pred = top1(self.float_output)
            section["float"] = _pct(int(np.sum(float_pred[judged] == y)), len(judged))
            section["float_all_inputs"] = _pct(int(np.sum(float_pred == self.labels)), self.count)
        report.accuracy = section
        report.diagnostics = self.diagnostics

    def _output_metrics(self, report: RunReport, judged: np.ndarray) -> dict[str, Any]:
        """ST-style ACC, RMSE, MAE, L2r, COS of the device's final output against the
        reference and the float model, over the judged vectors whose output is known."""
        known = [
            int(j) for j in judged if report.final_matched[int(j)] or int(j) in report.final_outputs
        ]
        if not known:
            return {}
        got = np.stack(
            [
                self.reference[j] if report.final_matched[j] else report.final_outputs[j]
                for j in known
            ]
        ).astype(np.float64)
        scale, zero = 1.0, 0
        if self.out_frac_bits is not None:
            scale = 2.0**-self.out_frac_bits
        elif self.out_quant is not None:
            scale, zero = self.out_quant
        real = self.out_frac_bits is not None or self.out_quant is not None
        labels = self.labels[known]
        ref = (self.reference[known].astype(np.float64) - zero) * scale
        metrics = {
            "vectors": len(known),
            "units": "float" if real else "q7",
            "device_vs_reference": output_metrics(ref, (got - zero) * scale, labels),
        }
        if self.float_output is not None and real:
            metrics["device_vs_float"] = output_metrics(
                self.float_output[known], (got - zero) * scale, labels
            )
        return metrics


def reference_name(family: str) -> str:
    """What the host reference of a family is called in reports."""
    return "int8 reference" if family == "s8" else "q7 reference"


def accuracy_line(section: dict[str, Any], family: str = "q7") -> str:
    """``accuracy: float 91.6%, q7 reference 91.2%, device 91.2% (1000 inputs)``
    (``int8 reference`` for an s8 network)."""
    figures = []
    if section["float"] is not None:
        figures.append(f"float {section['float']:.1f}%")
    for key, words in (("q7_reference", reference_name(family)), ("device", "device")):
        value = section[key]
        figures.append(f"{words} {'n/a' if value is None else f'{value:.1f}%'}")
    judged, total = section["judged"], section["inputs"]
    inputs = f"{total} input{'' if total == 1 else 's'}"  # no thousands separator: the set form
    scope = inputs if section["complete"] else f"{judged} of {inputs} judged, run cut short"
    if section["device_unknown"]:
        scope += f"; {section['device_unknown']} digest-only mismatches counted wrong"
    return f"accuracy: {', '.join(figures)} ({scope})"


def prepare_accuracy(
    network: Network,
    x: np.ndarray,
    labels: np.ndarray,
    variant: str,
    *,
    x_float: np.ndarray | None = None,
    input_saturated: int | None = None,
    float_model: Path | None = None,
) -> AccuracyRun:
    """Everything the accuracy needs before the device runs. With float inputs and a
    float model the float figure and the per-layer diagnostics come too.

    ``float_model`` is an s8 network's float model (.tflite or .onnx), run on the
    float inputs (or, for int8 inputs, on them dequantised)."""
    from hil.model.s8 import S8Network
    from hil.validate.float_diagnostics import float_outputs_and_diagnostics

    if isinstance(network, S8Network):
        last = network.layers[-1].output_quant
        run = AccuracyRun(
            labels,
            reference_final(network, x, variant),
            out_quant=(last.scale, last.zero_point),
            input_saturated=input_saturated,
            input_values=None if x_float is None else int(x_float.size),
        )
        if float_model is not None:
            from hil.model.tflite.float_model import float_outputs
            from hil.validate.s8_diagnostics import diagnose

            real = x_float if x_float is not None else network.input_quant.dequantise(x)
            real = np.asarray(real, np.float32).reshape(len(x), *network.input_shape[1:])
            run.float_output = float_outputs(float_model, real)
            run.diagnostics = diagnose(network, x, real, float_model, variant)
        return run

    run = AccuracyRun(
        labels,
        reference_final(network, x, variant),
        out_frac_bits=network.layers[-1].out_frac_bits,
        input_saturated=input_saturated,
        input_values=None if x_float is None else int(x_float.size),
    )
    q = network.quantisation
    if x_float is None or q is None or q.float_model is None:
        if q is not None and q.float_model is not None:
            run.float_note = "no float figure: the inputs are q7, the float model takes float"
        return run
    run.float_output, run.diagnostics, run.float_note = float_outputs_and_diagnostics(
        network, x, x_float, variant
    )
    return run


@dataclass(frozen=True)
class RunData:
    """A run's vectors as q7 HWC, with what came with them: float inputs, labels."""

    x: np.ndarray
    made_from: dict[str, Any]  # for the run record (see hil.validate.resume.inputs_record)
    x_float: np.ndarray | None = None
    labels: np.ndarray | None = None
    saturated: int | None = None  # input values clipped by the quantisation (float inputs)
    quantised_to: str = "q7 (HWC)"

    def quantised_text(self) -> str | None:
        """``1000 float inputs quantised to q7 (HWC): 12 of 784,000 values saturated``."""
        if self.x_float is None or self.saturated is None:
            return None
        return (
            f"{plural(len(self.x), 'float input')} quantised to {self.quantised_to}: "
            f"{self.saturated:,} of {self.x_float.size:,} values saturated"
        )


def _s8_run_data(network, inputs: Path, labels: Path | None) -> RunData:
    """An s8 network's vectors: int8 as given, float32 quantised with the input
    tensor's scale and zero point (NHWC, batch first)."""
    from hil.model.npy_file import load_npy

    raw = load_npy(inputs, "input file", "int8 or float32 (N, *input shape) NHWC")
    y = None if labels is None else load_labels(labels, len(raw), network)
    return _s8_vectors(network, raw, y, {"path": str(Path(inputs).resolve())}, "--inputs")


def _s8_dataset_data(network, dataset: str) -> RunData:
    """A shipped data set for an s8 network. Data sets hold the float model's layout
    (NCHW for images), an s8 model takes NHWC: images are transposed to it."""
    from hil.model.datasets import load_dataset
    from hil.model.s8_inputs import sample_shape

    d = load_dataset(dataset)
    x = d.x
    if x.ndim == 4 and x.shape[1:] != sample_shape(network):
        x = x.transpose(0, 2, 3, 1)  # NCHW -> NHWC
    try:
        y = check_labels(d.y, len(x), network, f"data set {dataset}")
        return _s8_vectors(network, x, y, {"dataset": dataset}, f"data set {dataset}")
    except ConfigError as exc:
        raise ConfigError(
            f"data set {dataset} does not fit model {network.name}: {exc.message}",
            hint=exc.hint,
        ) from None


def _s8_vectors(network, raw: np.ndarray, y, made_from: dict, option: str) -> RunData:
    from hil.model.s8_inputs import s8_inputs

    x, saturated = s8_inputs(raw, network, option)
    x = x.reshape(len(x), *network.input_shape)
    x_float = raw.astype(np.float32) if np.issubdtype(raw.dtype, np.floating) else None
    into = "int8 (NHWC) with the input tensor's scale and zero point"
    return RunData(x, made_from, x_float, y, saturated if x_float is not None else None, into)


def load_run_data(
    network: Network,
    *,
    inputs: Path | None,
    labels: Path | None,
    dataset: str | None,
) -> RunData | None:
    """The vectors of --inputs (int8 HWC or float) or --dataset, with --labels; None when
    the run generates its vectors. Every problem is one ConfigError, before any build."""
    from hil.model.datasets import load_dataset
    from hil.model.float_inputs import as_batch, load_run_inputs, quantise_inputs
    from hil.model.s8 import S8Network

    s8 = isinstance(network, S8Network)
    if dataset is not None:
        if inputs is not None or labels is not None:
            given = "--inputs" if inputs is not None else "--labels"
            raise ConfigError(
                f"--dataset and {given} both given: the data set brings its own inputs and labels",
                hint=f"drop {given}, or drop --dataset to run your own files",
            )
        if s8:
            return _s8_dataset_data(network, dataset)
        d = load_dataset(dataset)
        try:
            x, saturated = quantise_inputs(d.x, network)
        except ConfigError as exc:
            raise ConfigError(
                f"data set {dataset} does not fit model {network.name}: {exc.message}",
                hint=exc.hint,
            ) from None
        y = check_labels(d.y, len(x), network, f"data set {dataset}")
        return RunData(x, {"dataset": dataset}, as_batch(d.x, network), y, saturated)
    if inputs is None:
        if labels is not None:
            raise ConfigError(
                "--labels does nothing without --inputs: generated vectors have no classes",
                hint="add --inputs X.npy (or --dataset NAME), or drop --labels",
            )
        return None
    if s8:
        return _s8_run_data(network, inputs, labels)
    x, x_float, saturated = load_run_inputs(inputs, network)
    y_file = None if labels is None else load_labels(labels, len(x), network)
    made_from = {"path": str(Path(inputs).resolve())}
    return RunData(x, made_from, x_float, y_file, saturated if x_float is not None else None)
