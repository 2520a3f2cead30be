"""The parts of Click that hil needs, from the copy Typer runs on.

Typer up to 0.2x depends on the click package; later versions carry their
own copy as ``typer._click`` and no longer install click. Exceptions and
parameter sources must come from the copy Typer actually uses.
"""

from __future__ import annotations

from typer import Abort

try:
    from typer._click.core import ParameterSource
    from typer._click.exceptions import ClickException
    from typer._click.globals import get_current_context
except ImportError:  # Typer that depends on the click package
    from click.core import ParameterSource  # type: ignore[no-redef]
    from click.exceptions import ClickException  # type: ignore[no-redef]
    from click.globals import get_current_context  # type: ignore[no-redef]

__all__ = ["Abort", "ClickException", "ParameterSource", "get_current_context"]
