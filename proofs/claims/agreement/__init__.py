"""The claims about the agreement family (reference/agreement/), one module per claim."""
