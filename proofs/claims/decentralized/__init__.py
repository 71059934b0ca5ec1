"""The claims about the decentralized family (reference/decentralized/), one module per claim."""
