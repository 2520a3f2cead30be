"""Signals as a terminal delivers them, whatever started the test run."""

from __future__ import annotations

import signal


def default_sigint() -> None:
    """A Popen preexec_fn: the child takes SIGINT as Ctrl-C (KeyboardInterrupt).

    A shell starts background jobs (``cmd &``) with SIGINT ignored, children
    inherit that, and Python then leaves SIGINT ignored: a suite started that
    way would see every Ctrl-C test's signal vanish.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
