"""``python -m asyncproof.experiments NAME --out DIR``: see :func:`asyncproof.experiments.main`."""

import sys

from . import main

sys.exit(main())
