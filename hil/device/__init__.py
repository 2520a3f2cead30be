"""One device, or several: from a target to a connected, image-checked device, and
the session that talks to it (inference with recovery, single-kernel runs, shards)."""
