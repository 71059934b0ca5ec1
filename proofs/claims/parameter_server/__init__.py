"""The claims about the parameter server family (reference/parameter_server/), one module per claim."""
