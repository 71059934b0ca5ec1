"""The claims about the shared memory family (reference/shared_memory/), one module per claim."""
