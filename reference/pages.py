"""The documentation pages generated from the code, so that they cannot drift from it.

    python -m asyncproof.reference.pages docs        # rewrites the files below in docs/

* ``events.md``: every algorithm's event names (:func:`.event_names.markdown`);
* ``schedule.schema.json``: the schedule file's JSON Schema (:data:`.schedule_schema.SCHEMA`),
  for editors and other tools.

``tests/test_event_names.py`` fails when a committed page differs from what this writes.
"""

from __future__ import annotations

import json
from pathlib import Path


def pages() -> dict[str, str]:
    """File name -> content."""
    from .event_names import markdown
    from .registry import algorithms
    from .schedule_schema import SCHEMA
    return {"events.md": markdown([a.name for a in algorithms()]),
            "schedule.schema.json": json.dumps(SCHEMA, indent=1) + "\n"}


def main(argv=None) -> int:
    import sys
    from .schedule import write_atomically
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m asyncproof.reference.pages DOCS_DIR", file=sys.stderr)
        return 2
    for name, text in pages().items():
        print(f"wrote {write_atomically(Path(args[0]) / name, text)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
