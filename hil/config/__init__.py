"""Configuration: what a board is, which bench a lab file describes, and where every
setting of a run came from (command line, environment, lab file, board file, default)."""
