"""The conflict graph of a sparse problem (seed 002): samples sharing a variable."""
