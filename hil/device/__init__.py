"""From a target to connected, image-checked devices (connect), and the session that
talks to each: handshake, inference with recovery, single-kernel runs, labelled counts."""
