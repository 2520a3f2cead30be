"""Small wording helpers shared by every place that talks to a user."""

from __future__ import annotations


def plural(n: int, noun: str) -> str:
    """``1 vector``, ``2 vectors``: counts read as English."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
