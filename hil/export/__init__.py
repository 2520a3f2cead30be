"""Export a network as a self-contained C module: the code hil's own firmware runs and
validates, written out for the user's firmware (NAME.h, NAME.c, NAME_weights.c, the
kernels it calls, build files and the hashes that prove which export a board runs)."""
