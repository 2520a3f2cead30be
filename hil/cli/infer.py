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
            str, typer.Option(help="Reference variant: dsp (SIMD pooling) or plain (M0/M3).")
        ] = "dsp",
    ) -> None:
        """Run the host reference of MODEL on INPUTS and write the outputs."""
        import io

        import numpy as np

        from hil.errors import ConfigError
        from hil.model.float_inputs import load_run_inputs
        from hil.model.io import load_model
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
        check_variant(variant)
        net = load_model(model)
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
