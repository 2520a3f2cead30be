"""`hil infer`: the host reference over a batch of inputs, written as .npy or .npz,
for the expected outputs of a user's own firmware tests."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hil.cli.console import console
from hil.cli.options import ModelOpt


def register(app: typer.Typer) -> None:
    @app.command("infer")
    def infer_cmd(
        inputs: Annotated[
            Path,
            typer.Option(
                "--inputs",
                help="int8 .npy (N, *input_shape) in HWC; float32 in the float model's layout "
                "for an imported model.",
            ),
        ],
        output: Annotated[
            Path,
            typer.Option(
                "--output",
                help="Where the outputs go: .npy (the last layer, int8 (N, size)) or, with "
                "--layers, .npz (every layer by name).",
            ),
        ],
        model: ModelOpt = "cifar10",
        layers: Annotated[
            bool, typer.Option("--layers", help="Every layer's output, not only the last.")
        ] = False,
        variant: Annotated[
            str | None,
            typer.Option(
                help="q7 reference variant: dsp (SIMD pooling; the default) or plain (M0/M3)."
            ),
        ] = None,
        rounding: Annotated[
            str | None,
            typer.Option(
                help="s8 requantisation: double (TFLite Micro's; the default) or single "
                "(CMSIS_NN_USE_SINGLE_ROUNDING)."
            ),
        ] = None,
    ) -> None:
        """Run the host reference of MODEL on INPUTS and write the outputs."""
        import io

        import numpy as np

        from hil.errors import ConfigError
        from hil.model.float_inputs import load_run_inputs
        from hil.model.io import load_any_model
        from hil.model.s8 import S8Network
        from hil.outputs import check_output_file, write_bytes
        from hil.reference._kernel import check_variant
        from hil.reference.network import run_network_batch

        want = ".npz" if layers else ".npy"
        if output.suffix != want:
            raise ConfigError(
                f"--output {output}: {'--layers writes' if layers else 'the last layer goes to'} "
                f"a {want} file",
                hint=f"name it {output.with_suffix(want).name}"
                + ("" if layers else ", or add --layers for every layer (.npz)"),
            )
        check_output_file(output, "--output")
        net = load_any_model(model)
        if isinstance(net, S8Network):
            from hil.model.npy_file import load_npy
            from hil.model.s8_inputs import s8_inputs
            from hil.reference.s8 import ROUNDINGS
            from hil.reference.s8 import run_network_batch as run_s8

            if variant is not None:
                raise ConfigError(
                    f"--variant is for q7 models; {net.name} is s8, whose kernels give the "
                    "same bytes on every core",
                    hint="leave out --variant (--rounding picks the s8 requantisation)",
                )
            rounding = rounding or "double"
            if rounding not in ROUNDINGS:
                raise ConfigError(
                    f"--rounding {rounding!r} is not a rounding",
                    hint="use --rounding double or --rounding single",
                )
            x, saturated = s8_inputs(load_npy(inputs, "input file", "int8 or float32"), net)
            outputs = run_s8(net, x.reshape(len(x), *net.input_shape[1:]), rounding)
            variant = f"s8 {rounding}-rounding"
        else:
            if rounding is not None:
                raise ConfigError(
                    f"--rounding is for s8 models; {net.name} is q7",
                    hint="leave out --rounding (--variant picks the q7 reference)",
                )
            variant = variant or "dsp"
            check_variant(variant)
            x, _float, saturated = load_run_inputs(inputs, net)
            outputs = run_network_batch(net, x, variant)
        buf = io.BytesIO()
        if layers:
            np.savez(buf, **{layer.name: out for layer, out in zip(net.layers, outputs)})
        else:
            np.save(buf, outputs[-1])
        write_bytes(output, buf.getvalue(), "--output")
        note = f"; {saturated:,} input values saturated" if saturated else ""
        console.print(
            f"wrote {output}: {'every layer' if layers else 'the last layer'} of {net.name} "
            f"for {len(x):,} inputs ({variant} reference{note})",
            markup=False,
        )
