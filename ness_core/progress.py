"""Progress of a running chunk: a log line and a small file beside the chunk's result.

A simulate job reports, after a point once at least :data:`INTERVAL_SECONDS` have passed
since its last report (so after every point when points are slow), and after the last
point, one log line

    progress: 12/63 points (19%), elapsed 0:00:10, ETA 0:00:42

(ETA from the mean time per point so far; ``?`` before the first point) and rewrites
``<chunk>.progress`` beside ``<chunk>.nc`` (JSON: ``done``, ``total``, ``elapsed``,
``updated``, ``host``, ``pid``), atomically (:func:`~ness_core.chunk_files.atomic_write`).
The file is removed when the job ends, whether it succeeds or fails. Its name ends neither
in ``.json`` nor ``.nc``, so :func:`~ness_core.chunk_files.existing_chunks` never takes it
for a manifest or a result. :func:`running_points` counts the points that running chunks
have done: ``ness plan`` shows them while a study runs. A file left by a job that was
killed (SIGKILL, a lost node) names its host and process: on this host a file whose
process is gone is ignored; from another host it counts until the chunk's result exists.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ness_core.chunk_files import atomic_write

PROGRESS_SUFFIX = ".progress"  # <chunk>.progress beside <chunk>.nc
INTERVAL_SECONDS = 10.0


def progress_path(result: str | os.PathLike) -> Path:
    """``<chunk>.progress`` beside the chunk result ``<chunk>.nc``."""
    result = Path(result)
    return result.with_name(result.stem + PROGRESS_SUFFIX)


def format_interval(seconds: float) -> str:
    """``H:MM:SS`` (``?`` if unknown)."""
    if seconds != seconds or seconds == float("inf"):  # NaN, inf
        return "?"
    total = int(round(max(seconds, 0.0)))
    return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}"


def progress_line(done: int, total: int, elapsed: float) -> str:
    """``progress: 12/63 points (19%), elapsed 0:00:10, ETA 0:00:42``."""
    percent = 100 * done / total if total else 100.0
    eta = elapsed / done * (total - done) if done else float("nan")
    return (f"progress: {done}/{total} points ({percent:.0f}%), "
            f"elapsed {format_interval(elapsed)}, ETA {format_interval(eta)}")


class ChunkProgress:
    """Reports a chunk's progress to ``log`` (a function taking one line, e.g.
    ``logging.info``) and to :func:`progress_path` of ``result``.

    Use as a context manager around the computation and pass :meth:`update` as the
    per-point callback (``update(done, total)``); leaving the block removes the file.
    ``clock`` and ``interval`` are for tests.
    """

    def __init__(self, result: str | os.PathLike, total: int,
                 log: Callable[[str], Any] | None = None,
                 interval: float = INTERVAL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.path = progress_path(result)
        self.total = total
        self.log = log
        self.interval = interval
        self.clock = clock
        self.start = clock()
        self.last_report = self.start
        self.done = 0

    def __enter__(self) -> ChunkProgress:
        self.start = self.last_report = self.clock()
        self._write()  # replaces a file a killed earlier attempt left
        return self

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()

    def update(self, done: int, total: int | None = None) -> None:
        """``done`` points of the chunk are finished; report if it is time to."""
        self.done = done
        if total is not None:
            self.total = total
        now = self.clock()
        if now - self.last_report < self.interval and done < self.total:
            return
        self.last_report = now
        if self.log is not None:
            self.log(progress_line(done, self.total, now - self.start))
        if done < self.total:  # the finished chunk's file goes when the block ends
            self._write()

    def _write(self) -> None:
        record = {"done": self.done, "total": self.total,
                  "elapsed": round(self.clock() - self.start, 3),
                  "updated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                  "host": socket.gethostname(), "pid": os.getpid()}
        with contextlib.suppress(OSError):  # progress is a courtesy: never fail the job
            atomic_write(self.path, json.dumps(record))


def read_progress(path: str | os.PathLike) -> dict[str, Any] | None:
    """The record of a progress file, or ``None`` if it is unreadable or its job is gone
    (its process no longer runs on this host)."""
    try:
        record = json.loads(Path(path).read_text())
        done, total = int(record["done"]), int(record["total"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.get("host") == socket.gethostname() and not _alive(record.get("pid")):
        return None
    return {**record, "done": done, "total": total}


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def running_points(directory: str | os.PathLike, chunks: Iterable[str]) -> int:
    """Points done so far by the running ones of ``chunks`` (ids of chunks whose results
    do not exist yet) in the chunk directory ``directory``."""
    total = 0
    for cid in chunks:
        record = read_progress(Path(directory, cid + PROGRESS_SUFFIX))
        if record is not None:
            total += min(max(record["done"], 0), record["total"])
    return total
