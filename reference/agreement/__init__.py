"""Multi-dimensional approximate agreement in the cluster-based model (seed 000, Attiya and
Schiller).  Importing this package registers its algorithms."""
