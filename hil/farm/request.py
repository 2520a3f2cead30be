"""What a command asks of the farm: one named place, or N places matching tags."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from hil.errors import ConfigError
from hil.farm.coordinator import DEFAULT_PORT

# Where labgrid's tools look for the coordinator when nothing names it.
DEFAULT_COORDINATOR = f"127.0.0.1:{DEFAULT_PORT}"
# labgrid's own rule for tag keys (labgrid.remote.common.TAG_KEY).
TAG_KEY = re.compile(r"[a-z][a-z0-9_]+\Z")
FILTER_EXAMPLE = 'e.g. --reserve "board=nucleo-f746 rack=2"'


@dataclass(frozen=True)
class FarmRequest:
    coordinator: str  # HOST[:PORT]
    place: str | None = None  # acquire this place ...
    tags: dict[str, str] = field(default_factory=dict)  # ... or reserve places with these tags
    wait: bool = False  # wait for a busy place instead of failing
    source: str = "--place"  # how the user asked, for messages

    @property
    def reserves(self) -> bool:
        return self.place is None

    def describe(self) -> str:
        return self.place if self.place is not None else tags_text(self.tags)


def tags_text(tags: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in tags.items())


def parse_tags(text: str, option: str = "--reserve") -> dict[str, str]:
    """``"board=x rack=2"`` (spaces or commas) as a dict; a ConfigError names a bad pair."""
    tags: dict[str, str] = {}
    for pair in text.replace(",", " ").split():
        key, sep, value = pair.partition("=")
        if not sep or not value:
            raise ConfigError(
                f"{option} {text!r}: {pair!r} is not a tag=value pair", hint=FILTER_EXAMPLE
            )
        if not TAG_KEY.match(key):
            raise ConfigError(
                f"{option} {text!r}: {key!r} is not a labgrid tag name (lower-case letters, "
                "digits and _, starting with a letter, at least two characters)",
                hint=FILTER_EXAMPLE,
            )
        tags[key] = value
    if not tags:
        raise ConfigError(f"{option} needs at least one tag=value pair", hint=FILTER_EXAMPLE)
    return tags
