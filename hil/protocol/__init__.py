"""The wire protocol: generated constants, framing (no I/O) and the link."""
