"""Multi-dimensional approximate agreement in the cluster-based model (seed 000, Attiya and
Schiller).  Importing this package registers its algorithms.

==========================  ==================================================================
module                      what
==========================  ==================================================================
``provenance``              values with exact convex-combination weights over the inputs
``midextremes``             MidExtremes (with its tie-break) and the Aggregate rules
``cluster_model``           clusters, their register arrays, fault patterns, inputs
``cluster_agreement``       the slide "MDAA within a Cluster" (algorithm ``cluster-agreement``)
``mdaa``                    MDAA across clusters, R from q (algorithm ``mdaa``), and the
                            process-level API :class:`~.mdaa.MDAA` for other algorithms
==========================  ==================================================================
"""

from . import cluster_agreement, mdaa  # noqa: F401  (register the algorithms)
from .cluster_model import Clusters, Member, fault_model  # noqa: F401
from .mdaa import MDAA  # noqa: F401
from .provenance import Point, input_point  # noqa: F401
