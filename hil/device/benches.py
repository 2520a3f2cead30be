"""A target on labgrid places: acquire them, take the board from their tag, release at exit.

Every command that reaches a device wraps its work in ``on_benches``::

    with on_benches(target, devices=n, say=say) as target:
        image = build(target)
        with connect(target, image=image, devices=n) as devices:
            ...

A target without a farm request passes through unchanged. With one, the
target that comes out names the acquired places (``benches``), which
``connect`` opens one device each, and its board is the places' ``board``
tag (checked against --board when that was given).
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

from hil.config.boards import load_board
from hil.device.target import Target
from hil.errors import ConfigError
from hil.farm.acquire import acquired_benches
from hil.farm.wiring import BOARD_TAG, Bench

Say = Callable[[str], None]


@contextmanager
def on_benches(target: Target, *, devices: int = 1, say: Say | None = None) -> Iterator[Target]:
    """``target`` with its farm request's places acquired (released when the block ends)."""
    if target.farm is None:
        yield target
        return
    count = devices if target.farm.reserves else 1
    with acquired_benches(target.farm, count, say=say) as benches:
        yield dataclasses.replace(target, board=_board(target, benches), benches=tuple(benches))


def _board(target: Target, benches: Sequence[Bench]):
    """The board the places say they hold; --board, when given, must agree."""
    tagged = {b.board for b in benches if b.board is not None}
    untagged = [b.place for b in benches if b.board is None]
    if len(tagged) > 1:
        listed = ", ".join(f"{b.place} ({BOARD_TAG}={b.board})" for b in benches)
        raise ConfigError(
            f"the places hold different boards: {listed}",
            hint=f'reserve one kind at a time: --reserve "{BOARD_TAG}=ID ..."',
        )
    if target.board_given:
        for bench in benches:
            if bench.board is not None and bench.board != target.board.id:
                raise ConfigError(
                    f"place {bench.place} holds a {bench.board} ({BOARD_TAG}={bench.board}), "
                    f"and the board asked for is {target.board.id}",
                    hint=f"drop --board (the place's tag decides), or pick a {target.board.id} place",
                )
        return target.board
    if untagged:
        raise ConfigError(
            f"place {untagged[0]} has no {BOARD_TAG} tag, so hil cannot tell which board it holds",
            hint=f"tag it (labgrid-client -p {untagged[0]} set-tags {BOARD_TAG}=ID, an id from "
            "`hil boards`), or pass --board",
        )
    board_id = tagged.pop()
    try:
        return load_board(board_id)
    except ConfigError as exc:  # say where the id came from: the user never typed it
        places = ", ".join(b.place for b in benches)
        which = f"place {places} is" if len(benches) == 1 else f"places {places} are"
        raise ConfigError(
            f"{which} tagged {BOARD_TAG}={board_id}: {exc.message}",
            hint=f"tag it with an id from `hil boards` (labgrid-client -p PLACE set-tags "
            f"{BOARD_TAG}=ID)",
        ) from exc
