"""Write the corpus of bad schedule files and ``expected.json`` (what ``asyncproof replay`` must answer).

    python tests/data/bad-schedules/make.py

Every file is one defect of a valid schedule (``minibatch-sgd``, T = 2, b = 2, n = 2, seed 5,
``random:seed=5``), named after it.  ``expected.json`` maps each file to the exit status
(2: bad input, one line naming the field; 1: a divergence; 0: a file without a digest that
replays) and a fragment of the message.  ``tests/test_bad_schedules.py`` replays every file.
Re-run this script when the format changes; the files are committed so that the corpus also
holds files this script would no longer write.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent


def base() -> dict:
    from asyncproof import run_algorithm
    res = run_algorithm("minibatch-sgd", params={"T": 2, "b": 2, "n": 2}, seed=5, adversary="random:seed=5")
    return res.schedule.to_json()


def cases(d: dict) -> dict[str, tuple[object, int, str]]:
    """name -> (file content: a dict or raw text, exit status, message fragment)."""
    n = len(d["events"])

    def w(**changes):
        out = copy.deepcopy(d)
        for k, v in changes.items():
            if v is _DROP:
                out.pop(k, None)
            else:
                out[k] = v
        return out

    swapped = list(d["events"])
    i = next(k for k in range(n - 1) if swapped[k] != swapped[k + 1])
    swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    deep = json.dumps(w(params=dict(d["params"], batches=_nest(40))))
    text = json.dumps(d)
    return {
        # not JSON, or not bounded
        "truncated": (text[: len(text) // 2], 2, "is not valid JSON (truncated or corrupt?)"),
        "empty": ("", 2, "is not valid JSON"),
        "binary": (b"\xff\xfe\x00garbage", 2, "cannot be read"),
        "nested-100000-deep": ("[" * 100_000 + "]" * 100_000, 2, "is nested 100000 deep"),
        "nested-40-deep-in-params": (deep, 2, "is nested 42 deep"),
        "integer-of-5001-digits": (text.replace('"seed": 5', '"seed": ' + "9" * 5001), 2,
                                   "an integer of 5001 digits"),
        "nan-in-params": (text.replace('"gamma": 0.05', '"gamma": NaN'), 2, "NaN is not a JSON number"),
        "float-out-of-range": (text.replace('"gamma": 0.05', '"gamma": 1e999'), 2, "out of the float64 range"),
        # the schema
        "top-level-list": ([1, 2, 3], 2, "is not an asyncproof schedule"),
        "format-other": (w(format="other"), 2, "is not an asyncproof schedule"),
        "version-2": (w(version=2), 2, "has schedule format version 2"),
        "version-string": (w(version="1"), 2, "has schedule format version '1'"),
        "no-events": (w(events=_DROP), 2, "lacks field 'events'"),
        "no-algorithm": (w(algorithm=_DROP), 2, "lacks field 'algorithm'"),
        "unknown-field": (w(evnts=[]), 2, "unknown field 'evnts'"),
        "algorithm-list": (w(algorithm=[]), 2, "field 'algorithm': [] is not of type 'string'"),
        "algorithm-object": (w(algorithm={}), 2, "field 'algorithm': {} is not of type 'string'"),
        "algorithm-number": (w(algorithm=3), 2, "field 'algorithm': 3 is not of type 'string'"),
        "algorithm-unknown": (w(algorithm="no-such-alg"), 2, "unknown algorithm 'no-such-alg'"),
        "params-string": (w(params="abc"), 2, "field 'params': 'abc' is not of type 'object'"),
        "params-number": (w(params=3), 2, "field 'params': 3 is not of type 'object'"),
        "params-list": (w(params=[]), 2, "field 'params': [] is not of type 'object'"),
        "params-bool": (w(params=True), 2, "field 'params': True is not of type 'object'"),
        "params-unknown": (w(params=dict(d["params"], beta=1)), 2, "'beta' is not a parameter of minibatch-sgd"),
        "params-gamma-negative": (w(params=dict(d["params"], gamma=-1)), 2, "gamma (step size) must be > 0"),
        "params-b-10-to-12": (w(params=dict(d["params"], b=10 ** 12)), 2, "minibatch-sgd: b"),
        "params-T-10-to-12": (w(params=dict(d["params"], T=10 ** 12)), 2, "minibatch-sgd: T"),
        "params-n-string": (w(params=dict(d["params"], n="two")), 2, "n must be of type int, got 'two'"),
        "property-string": (w(property="x"), 2, "field 'property': 'x' is not of type 'object'"),
        "property-no-name": (w(property={"message": "m"}), 2, "lacks field 'name' in field 'property'"),
        "property-name-number": (w(property={"name": 3, "message": "m"}), 2, "field 'property.name': 3 is not of type"),
        "property-unknown": (w(property={"name": "nope", "message": "m"}), 2,
                             "field 'property.name': 'nope' is not a property"),
        "digest-sha256-abc": (w(digest="sha256:abc"), 2, "field 'digest': 'sha256:abc' is not a SHA-256 digest"),
        "digest-md5": (w(digest="md5:00"), 2, "is not a SHA-256 digest"),
        "digest-number": (w(digest=3), 2, "field 'digest': 3 is not of type"),
        "steps-string": (w(steps="10"), 2, "field 'steps': '10' is not of type 'integer'"),
        "steps-negative": (w(steps=-1), 2, "field 'steps': -1 is less than the minimum of 0"),
        "steps-bool": (w(steps=True), 2, "field 'steps': True is not of type 'integer'"),
        "steps-mismatch": (w(steps=n + 1), 2, f"field 'steps' is {n + 1} but the file holds {n} events"),
        "stopped-unknown": (w(stopped="sometimes"), 2, "field 'stopped': 'sometimes' is not one of"),
        "events-string": (w(events="p0 output"), 2, "field 'events': 'p0 output' is not of type 'array'"),
        "events-numbers": (w(events=[1, 2], steps=2), 2, "field 'events[0]': 1 is not of type 'string'"),
        "event-not-a-name": (w(events=d["events"][:3] + ["jump p3"] + d["events"][3:], steps=n + 1), 2,
                             "field 'events[3]': 'jump p3' is not an event name"),
        "event-empty": (w(events=[""] + d["events"][1:]), 2, "field 'events[0]': '' should be non-empty"),
        "event-3000-chars": (w(events=["p0 " + "x" * 3000] + d["events"][1:]), 2, "is too long"),
        "annotations-list": (w(annotations=[]), 2, "field 'annotations': [] is not of type 'object'"),
        "annotations-key": (w(annotations={"x": {}}), 2, "field 'annotations'"),
        "annotations-beyond-the-end": (w(annotations={str(n + 5): {"time": 1.0}}), 2,
                                       f"annotates step {n + 5}, but the file holds only {n} events"),
        "annotations-value": (w(annotations={"0": 3}), 2, "field 'annotations.0': 3 is not of type 'object'"),
        "seed-negative": (w(seed=-1), 2, "field 'seed': -1 is less than the minimum of 0"),
        "seed-string": (w(seed="0"), 2, "field 'seed': '0' is not of type 'integer'"),
        "seed-float": (w(seed=1.5), 2, "field 'seed': 1.5 is not of type 'integer'"),
        "seed-beyond-64-bits": (w(seed=10 ** 25), 2, "is greater than the maximum"),
        "model-string": (w(model="x"), 2, "field 'model': 'x' is not of type 'object'"),
        "model-unknown-field": (w(model={"bogus": 1}), 2, "field 'model': unknown field 'bogus'"),
        "model-f-negative": (w(model={"f": -1}), 2, "field 'model.f': -1 is less than the minimum of 0"),
        "model-tau-string": (w(model={"tau": "3"}), 2, "field 'model.tau': '3' is not of type"),
        "problem-string": (w(problem="quadratic"), 2, "field 'problem': 'quadratic' is not of type 'object'"),
        "problem-no-name": (w(problem={}), 2, "lacks field 'name' in field 'problem'"),
        "problem-unknown": (w(problem={"name": "nope"}), 2, "unknown problem 'nope'"),
        "problem-params-number": (w(problem={"name": "quadratic", "params": 3}), 2,
                                  "field 'problem.params': 3 is not of type 'object'"),
        # valid files whose events are not the run's: a divergence, exit 1
        "events-appended": (w(events=d["events"] + ["p7 write zzz", "crash p9"], steps=n + 2), 1,
                            f"diverged at step {n}: the schedule expects 'p7 write zzz'"),
        "events-appended-no-steps": (w(events=d["events"] + ["p7 write zzz", "crash p9"], steps=_DROP), 1,
                                     f"diverged at step {n}"),
        "events-doubled": (w(events=d["events"] * 2, steps=2 * n), 1,
                           f"the run had ended (quiescent) after {n} events, and the schedule holds {n} more"),
        "events-swapped": (w(events=swapped), 1, "diverged"),
        "events-first-dropped": (w(events=d["events"][1:], steps=n - 1), 1, "diverged at step 0"),
        "events-last-dropped": (w(events=d["events"][:-1], steps=n - 1), 1,
                                "then the run could go on (max_steps) where the schedule says it quiescent"),
        "digest-other": (w(digest="sha256:" + "0" * 64), 1, "differs from the recorded sha256:000"),
        "stopped-max-steps": (w(stopped="max_steps"), 1, "where the schedule says it max_steps"),
        # a hand-written file: no digest, replays to the end
        "no-digest": (w(digest=_DROP), 0, "ran to the end; no digest to compare; digest sha256:"),
        "minimal": ({"format": d["format"], "version": 1, "algorithm": "minibatch-sgd", "params": d["params"],
                     "seed": 5, "events": d["events"]}, 0, "ran to the end; no digest to compare"),
    }


class _Drop:
    pass


_DROP = _Drop()


def _nest(k: int):
    v: list = [0]
    for _ in range(k - 1):
        v = [v]
    return v


def main() -> None:
    d = base()
    expected = {}
    for name, (content, code, fragment) in cases(d).items():
        path = HERE / f"{name}.json"
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, str):
            path.write_text(content)
        else:
            path.write_text(json.dumps(content, indent=1) + "\n")
        expected[path.name] = {"exit": code, "message": fragment}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(expected)} files and expected.json to {HERE}")


if __name__ == "__main__":
    main()
