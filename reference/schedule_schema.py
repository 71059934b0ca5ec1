"""The schedule file's declared schema (JSON Schema, draft 2020-12), and a bounded reader.

A schedule file is read in three stages, each refusing what it can name in one line:

1. **Bounded text.**  At most :data:`MAX_FILE_BYTES`; nesting at most :data:`MAX_DEPTH`
   deep, measured on the text before any parsing (a file nested 100,000 deep is refused
   without recursing); an integer literal of more than :data:`MAX_INT_DIGITS` digits is
   refused before Python converts it; ``NaN`` and ``Infinity`` are not JSON numbers.
2. **Schema.**  :data:`SCHEMA` declares every field, its type and its range; the validator
   is the ``jsonschema`` library's, and the message names the field by its path
   (``params.b``, ``events[3]``).
3. **Meaning** (in :mod:`.schedule`): ``steps`` equals the number of events, annotations
   belong to recorded steps, every event is an event name, and the algorithm, its
   parameters, the problem and the model resolve as a run would resolve them.

Only ``format``, ``version``, ``algorithm`` and ``events`` are required, so a schedule
can be written by hand: ``params`` default to the algorithm's defaults, ``problem`` to
its default problem, ``seed`` to 0, ``model`` to no constraints, and without a
``digest`` a replay reports the digest it reached instead of comparing.

>>> import json
>>> d = parse_text('{"format": "asyncproof-schedule", "version": 1, "algorithm": "sgd", "events": []}', "f.json")
>>> validate(d, "f.json")
>>> validate(dict(d, params="abc"), "f.json")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: f.json: field 'params': 'abc' is not of type 'object'
>>> parse_text("[" * 100_000, "deep.json")
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: deep.json is nested 100000 deep; a schedule file is at most 32 deep
"""

from __future__ import annotations

import json
import re
from typing import Any

from .errors import InputError

MAX_FILE_BYTES = 256 * 2 ** 20     # a million events take about 40 MB
MAX_DEPTH = 32                     # parameters nest lists of lists; nothing legitimate nears 32
MAX_INT_DIGITS = 30                # seeds are 64-bit (20 digits); longer is a typo or an attack
MAX_EVENTS = 10_000_000
MAX_EVENT_CHARS = 2_000

FORMAT = "asyncproof-schedule"
VERSION = 1
STOPPED = ("quiescent", "max_steps", "diverged", "raised")
DIGEST_PATTERN = "^sha256:[0-9a-f]{64}$"

_NAME = {"type": "string", "minLength": 1, "maxLength": 100}
_KEY = {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$", "maxLength": 64}
_COUNT = {"type": "integer", "minimum": 0, "maximum": 2 ** 63 - 1}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "asyncproof schedule, format version 1",
    "description": "One run of a registered algorithm: the events an adversary chose, by name, "
                   "and everything needed to rebuild the run (docs/schedule-format.md).",
    "type": "object",
    "required": ["format", "version", "algorithm", "events"],
    "additionalProperties": False,
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "algorithm": dict(_NAME, pattern="^[a-z0-9][a-z0-9-]*$"),
        "params": {"type": "object", "propertyNames": _KEY,
                   "description": "the algorithm's parameters; missing ones take their defaults"},
        "problem": {"type": "object", "required": ["name"], "additionalProperties": False,
                    "properties": {"name": _NAME,
                                   "params": {"type": "object", "propertyNames": _KEY},
                                   "seed": _COUNT}},
        "seed": dict(_COUNT, maximum=2 ** 64 - 1),
        "model": {"type": "object", "additionalProperties": False,
                  "properties": {"f": _COUNT,
                                 "crashable": {"type": ["array", "null"], "items": _COUNT, "maxItems": 100_000},
                                 "recovery": {"type": "boolean"},
                                 "majority": {"type": "boolean"},
                                 "tau": {"type": ["integer", "null"], "minimum": 0},
                                 "fairness": {"type": ["integer", "null"], "minimum": 1}}},
        "adversary": {"type": "object", "required": ["name"], "properties": {"name": _NAME},
                      "description": "information only: replay follows the events"},
        "package_version": {"type": "string", "maxLength": 100},
        "steps": dict(_COUNT, description="the number of events (checked)"),
        "stopped": {"enum": list(STOPPED), "description": "why the run ended (checked by replay)"},
        "events": {"type": "array", "maxItems": MAX_EVENTS,
                   "items": {"type": "string", "minLength": 1, "maxLength": MAX_EVENT_CHARS}},
        "annotations": {"type": "object", "propertyNames": {"pattern": "^(0|[1-9][0-9]{0,9})$"},
                        "additionalProperties": {"type": "object"}},
        "digest": {"type": ["string", "null"], "pattern": DIGEST_PATTERN,
                   "description": "SHA-256 of the final trace; absent or null: replay reports the one it reaches"},
        "property": {"type": "object", "required": ["name", "message"],
                     "properties": {"name": _NAME, "message": {"type": "string"},
                                    "raised": _NAME, "algorithm_under_test": _NAME}},
    },
}

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_LONG_INT = re.compile(r"(?<![0-9.eE+-])-?[0-9]{%d,}" % (MAX_INT_DIGITS + 1))


def _depth(text: str) -> int:
    """Deepest bracket nesting of a JSON text, strings blanked out first (no parsing, no recursion)."""
    deepest = depth = 0
    for ch in re.findall(r"[\[\]{}]", _STRING.sub('""', text)):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _line_col(text: str, pos: int) -> str:
    line = text.count("\n", 0, pos) + 1
    return f"line {line} column {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    v = float(text)
    if v in (float("inf"), float("-inf")):
        raise ValueError(f"the number {_short(text, 40)} is out of the float64 range")
    return v


def parse_text(text: str, where: str) -> Any:
    """Stage 1: the JSON value of ``text``, within the limits above (InputError otherwise)."""
    if len(text) > MAX_FILE_BYTES:
        raise InputError(f"{where} holds {len(text)} characters; a schedule file is at most {MAX_FILE_BYTES}")
    depth = _depth(text)
    if depth > MAX_DEPTH:
        raise InputError(f"{where} is nested {depth} deep; a schedule file is at most {MAX_DEPTH} deep")
    m = _LONG_INT.search(_STRING.sub(lambda s: " " * len(s.group()), text))
    if m:
        raise InputError(f"{where}: {_line_col(text, m.start())}: an integer of {len(m.group().lstrip('-'))} "
                         f"digits; numbers in a schedule have at most {MAX_INT_DIGITS}")
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
    except json.JSONDecodeError as e:
        raise InputError(f"{where} is not valid JSON (truncated or corrupt?): "
                         f"{e.msg} at line {e.lineno} column {e.colno}") from None
    except (ValueError, RecursionError) as e:
        raise InputError(f"{where} is not valid JSON: {e}") from None


def _path(err) -> str:
    out = ""
    for part in err.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def validate(d: Any, where: str) -> None:
    """Stage 2: ``d`` against :data:`SCHEMA`; the first (most relevant) error, named by its field."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise InputError(f"{where} is not an asyncproof schedule (expected \"format\": \"{FORMAT}\")")
    if d.get("version") != VERSION:
        raise InputError(f"{where} has schedule format version {_short(repr(d.get('version')), 40)}; "
                         f"this asyncproof reads version {VERSION}")
    from jsonschema.exceptions import relevance
    # the most relevant error, and among equals the first in the file (events[0] before events[1])
    err = best_match(_validator().iter_errors(d),
                     key=lambda e: _first_most_relevant(relevance(e), e))
    if err is None:
        return
    path = _path(err)
    if err.validator == "pattern" and path == "digest":
        raise InputError(f"{where}: field 'digest': {_short(repr(err.instance), 80)} is not a SHA-256 digest "
                         f"('sha256:' and 64 lowercase hex digits); leave it out to have replay report one")
    if err.validator == "required":
        missing = sorted(set(err.validator_value) - set(err.instance))
        inside = f" in field '{path}'" if path else ""
        raise InputError(f"{where} lacks field {missing[0]!r}{inside} (truncated or hand-edited?)")
    if err.validator == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(known))
        inside = f"field '{path}'" if path else "top level"
        raise InputError(f"{where}: {inside}: unknown field {extra[0]!r}; known fields: {', '.join(known)}")
    if err.validator == "propertyNames":
        raise InputError(f"{where}: field '{path}': {_short(err.message)}")
    where_field = f"field '{path}'" if path else "top level"
    message, shown = err.message, repr(err.instance)
    if message.startswith(shown):                 # jsonschema leads with the value: keep it short
        message = _short(shown, 60) + message[len(shown):]
    raise InputError(f"{where}: {where_field}: {_short(message, 240)}")


def _first_most_relevant(rank: tuple, err) -> tuple:
    # jsonschema's rank ends its tie-break with the path itself (so events[1] beats events[0]);
    # keep its other terms and prefer the earlier position instead
    rest = tuple(x for x in rank if not hasattr(x, "appendleft"))
    return rest + (tuple(-p if isinstance(p, int) else 0 for p in err.absolute_path),)


_VALIDATOR = None


def _validator():
    global _VALIDATOR
    if _VALIDATOR is None:
        from jsonschema import Draft202012Validator
        Draft202012Validator.check_schema(SCHEMA)
        _VALIDATOR = Draft202012Validator(SCHEMA)
    return _VALIDATOR

