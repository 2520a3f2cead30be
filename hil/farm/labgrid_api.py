"""The parts of labgrid hil uses: the seam unit tests replace with fakes.

hil speaks to the coordinator the way labgrid's own client does: a
``ClientSession`` keeps the coordinator's view of places and resources up to
date, and the coordinator's gRPC calls (AcquirePlace, CreateReservation, ...)
change it. labgrid is an optional extra, imported on first use only.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from hil.errors import ConfigError

INSTALL_HINT = "pip install 'hil[labgrid]' (labgrid 25 or newer, with its gRPC coordinator)"


@dataclass(frozen=True)
class LabgridApi:
    ClientSession: Any  # labgrid.remote.client.ClientSession
    messages: Any  # labgrid.remote.generated.labgrid_coordinator_pb2
    Reservation: Any  # labgrid.remote.common.Reservation (from_pb2)
    RpcError: type[BaseException]  # grpc.aio.AioRpcError
    ServerError: type[BaseException]  # labgrid.remote.client.ServerError
    version: str


def load_labgrid() -> LabgridApi:
    """Import labgrid's client (slow: gRPC) the first time a farm is used."""
    # gRPC's fork handler can abort children forked after it started (hil starts
    # toolchains and emulators): the children exec at once, so it is not needed.
    os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")
    # labgrid's client logs through the root logger, which would then print to stderr
    # ("ERROR:root:coordinator is unavailable" beside hil's own one-line error). hil
    # says everything itself; a program that configured logging keeps its handlers.
    if not logging.root.handlers:
        logging.root.addHandler(logging.NullHandler())
    try:
        import grpc.aio
        from labgrid import __version__
        from labgrid.remote import client
        from labgrid.remote.common import Reservation
        from labgrid.remote.generated import labgrid_coordinator_pb2
    except ImportError as exc:
        raise ConfigError(
            "labgrid is not installed; board farms (--place, --reserve) work through it",
            hint=INSTALL_HINT,
        ) from exc
    return LabgridApi(
        client.ClientSession,
        labgrid_coordinator_pb2,
        Reservation,
        grpc.aio.AioRpcError,
        client.ServerError,
        __version__,
    )
