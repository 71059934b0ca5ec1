"""Non-volatile memory on disk: each process's last checkpoint in a file of its own.

Seed 000 (``000_3f5163bcd896752f.txt``), slide "Recovery through Skipping": "**Non-volatile
memory** can be used to checkpoint the current status".  The engine keeps every process's last
:class:`~asyncproof.reference.engine.Checkpoint` in memory; given a :class:`CheckpointDir`
(``run_algorithm(..., checkpoints=DIR)``, ``asyncproof run ALG --checkpoints DIR``) it also writes
it to ``DIR/p<pid>.ckpt`` and a recovered process restarts from what it reads back there, so
the file is the non-volatile memory the recovery really used.

A file is ``MAGIC``, one JSON header line (the run it belongs to, the pid, the payload's size and
SHA-256) and the pickled state.  It is written atomically (a temporary file beside it, flushed to
disk, renamed over it): a crash during the write leaves the previous checkpoint whole.  Reading
one refuses, with a one-line :class:`~asyncproof.reference.errors.InputError`,

* a file that is corrupt (not a checkpoint, a header that does not parse, a payload cut short or
  changed: its SHA-256 differs), and
* a file from another run (another algorithm, parameters, problem or seed): a directory that
  holds checkpoints of another run is refused before the run starts, so a recovery can never
  resume from another run's state.

The payload is a pickle: read checkpoint files only from directories you wrote yourself.

>>> import tempfile
>>> d = CheckpointDir(tempfile.mkdtemp(), {"algorithm": "demo", "seed": 0})
>>> d.save(1, {"t": 3, "x": [1.0, 2.0]}) and d.load(1)
{'t': 3, 'x': [1.0, 2.0]}
>>> d.load(2) is None                        # p2 never checkpointed in this run
True
>>> _ = d.file(1).write_bytes(d.file(1).read_bytes()[:-3])
>>> d.load(1)
Traceback (most recent call last):
...
asyncproof.reference.errors.InputError: checkpoint file '.../p1.ckpt' is corrupt: its payload is 45 bytes, the header says 48 (cut short?)
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any

from .errors import InputError
from .schedule import check_output_dir, write_atomically

MAGIC = b"asyncproof-checkpoint v1\n"


def run_key(run: dict) -> str:
    """A short digest of what identifies a run (algorithm, parameters, problem, seed)."""
    text = json.dumps(run, sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _describe(run: dict) -> str:
    return f"{run.get('algorithm', '?')}, seed {run.get('seed', '?')}"


class CheckpointDir:
    """The checkpoints of one run (identified by ``run``: a JSON-able dict) in ``path``."""

    def __init__(self, path: str | os.PathLike, run: dict):
        self.path = check_output_dir(path, "--checkpoints directory")
        self.run = dict(run)
        self.key = run_key(self.run)
        self.saved: set[int] = set()           # the pids that checkpointed in this run
        for f in sorted(self.path.glob("p*.ckpt")):
            header, _ = self._read(f)
            if header.get("run") != self.key:
                raise InputError(f"--checkpoints directory '{self.path}' holds checkpoints of another run "
                                 f"({f.name}: {_describe(header)}; this run: {_describe(self.run)}): "
                                 f"remove them or pick an empty directory")

    def file(self, pid: int) -> Path:
        return self.path / f"p{pid}.ckpt"

    def save(self, pid: int, state: Any) -> Path:
        """Write process ``pid``'s checkpoint atomically (the previous one survives a failed write)."""
        payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        header = {"run": self.key, "algorithm": self.run.get("algorithm"), "seed": self.run.get("seed"),
                  "pid": pid, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
        data = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload
        path = self.file(pid)
        write_atomically(path, data)
        self.saved.add(pid)
        return path

    def load(self, pid: int) -> Any:
        """Process ``pid``'s last checkpoint of this run (None if it saved none)."""
        if pid not in self.saved:
            return None
        f = self.file(pid)
        if not f.exists():
            raise InputError(f"checkpoint file '{f}' is missing: p{pid} checkpointed in this run, "
                             f"and its non-volatile memory is gone")
        header, payload = self._read(f)
        if header.get("run") != self.key:
            raise InputError(f"checkpoint file '{f}' is from another run ({_describe(header)}), "
                             f"not this one ({_describe(self.run)})")
        if header.get("pid") != pid:
            raise InputError(f"checkpoint file '{f}' holds p{header.get('pid')}'s checkpoint, not p{pid}'s")
        try:
            return pickle.loads(payload)
        except Exception as e:                  # the hash matched: a state this Python cannot rebuild
            raise InputError(f"checkpoint file '{f}' cannot be read back: {type(e).__name__}: {e}") from None

    @staticmethod
    def _read(f: Path) -> tuple[dict, bytes]:
        """(header, payload) of a checkpoint file whose payload matches its header; else InputError."""
        try:
            data = f.read_bytes()
        except OSError as e:
            raise InputError(f"checkpoint file '{f}' cannot be read: {e.strerror or e}") from None
        if not data.startswith(MAGIC):
            raise InputError(f"checkpoint file '{f}' is corrupt: it does not start with {MAGIC[:-1].decode()!r}")
        line, sep, payload = data[len(MAGIC):].partition(b"\n")
        try:
            header = json.loads(line) if sep else None
        except (UnicodeDecodeError, json.JSONDecodeError):
            header = None
        if not isinstance(header, dict) or not isinstance(header.get("bytes"), int) \
                or not isinstance(header.get("sha256"), str):
            raise InputError(f"checkpoint file '{f}' is corrupt: its header line is not a checkpoint header")
        if len(payload) != header["bytes"]:
            raise InputError(f"checkpoint file '{f}' is corrupt: its payload is {len(payload)} bytes, the header "
                             f"says {header['bytes']} (cut short?)")
        if hashlib.sha256(payload).hexdigest() != header["sha256"]:
            raise InputError(f"checkpoint file '{f}' is corrupt: its payload's SHA-256 differs from its header's")
        return header, payload

