"""Chunk files under ``results/<study>/chunks/``: manifests (``<chunk>.json``, what to
compute) and results (``<chunk>.nc``), and the one way every output is written.

:func:`atomic_path` writes through a temporary file beside the target and a rename, so a
killed job leaves no half file; the file gets mode ``0o666 & ~umask`` (what ``open`` would
give, not ``mkstemp``'s 0600), and a full file system becomes one :class:`DiskFullError`
naming the file, also when the writer (netCDF/HDF5) reports it as some other error.

A chunk result has a *digest* beside it, ``<chunk>.nc.digest`` (JSON: blake2b of the file's
bytes and its size; its own mtime is the result's mtime when they last matched), written
before the result is renamed into place. :func:`existing_chunks` counts a result as
computed only if it matches its digest (a result without one, from before digests, only if
it opens and holds its manifest's points); a result that does not is reported on stderr
and, when planning for a run, moved aside to ``<chunk>.nc.corrupt`` (never deleted), so
Snakemake recomputes it when its study's dataset is next gathered (an up-to-date dataset
already holds its points). The gather job checks every byte of its chunks again first.
Checking costs two ``stat`` s per chunk while the result's mtime equals its digest file's;
a changed mtime (Snakemake touches every output after its job) costs one read of the
result, after which the digest file takes the new mtime. An unreadable manifest is reported,
moved aside to ``<chunk>.json.corrupt`` and treated as absent, so its points are planned
again.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

DIGEST_SUFFIX = ".digest"  # <chunk>.nc.digest
CORRUPT_SUFFIX = ".corrupt"  # <chunk>.nc.corrupt, <chunk>.json.corrupt
# A file system with less free space than this is full: a job checks it before computing,
# and a write that fails while less than this is free failed for lack of space.
MIN_FREE_BYTES = 2**20
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)


class OutputError(OSError):
    """An output that cannot be written; the message names the file or directory."""

    def __str__(self) -> str:
        if self.strerror:  # OutputError(errno, message)
            return str(self.strerror)
        return str(self.args[0]) if self.args else super().__str__()


class DiskFullError(OutputError):
    """No space left on device (or quota exceeded) where an output is written.

    Retrying cannot help until space is freed; the message says so and names the file.
    """


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def free_bytes(directory: str | os.PathLike) -> int:
    """Bytes free to this user on the file system holding ``directory``."""
    return shutil.disk_usage(directory).free


def _disk_full(path: Path, where: Path) -> DiskFullError:
    try:
        free = f"{free_bytes(where) / 2**20:.1f} MB free"
    except OSError:
        free = "free space unknown"
    return DiskFullError(errno.ENOSPC, f"no space left on device: cannot write {path} "
                                       f"({free} in {where}); free space, then rerun")


def check_free_space(directory: str | os.PathLike, need_bytes: int = MIN_FREE_BYTES) -> None:
    """Raise :class:`DiskFullError` if ``directory``'s file system has less than
    ``need_bytes`` free (a job calls this before computing, so a retry fails at once)."""
    directory = Path(directory)
    with contextlib.suppress(OSError):
        directory.mkdir(parents=True, exist_ok=True)
    free = free_bytes(directory if directory.is_dir() else directory.parent)
    if free < need_bytes:
        raise DiskFullError(errno.ENOSPC, f"no space left on device: {directory} has "
                                          f"{free / 2**20:.1f} MB free, less than "
                                          f"{need_bytes / 2**20:.1f} MB; free space, then rerun")


def _output_error(exc: OSError, path: Path) -> OutputError:
    if exc.errno in _DISK_FULL_ERRNOS:
        return _disk_full(path, path.parent)
    if isinstance(exc, PermissionError):  # name the directory that refuses: the first that exists
        where = next((d for d in path.parents if d.is_dir()), path.parent)
        return OutputError(exc.errno, f"cannot write in directory {where} (permission denied), "
                                      f"so not {path}")
    return OutputError(exc.errno, f"cannot write {path}: {exc.strerror or exc}")


def check_writable(directory: str | os.PathLike) -> None:
    """Raise :class:`OutputError` naming the directory if files cannot be created in
    ``directory`` (or, where it does not exist yet, in the first parent that does)."""
    directory = Path(directory)
    where = next((d for d in (directory, *directory.parents) if d.is_dir()), directory)
    if not os.access(where, os.W_OK | os.X_OK):
        raise OutputError(errno.EACCES, f"cannot write in directory {where} (permission "
                                        f"denied), so not {directory}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp",
                need_bytes: int = 0) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed to ``path`` if the block succeeds.

    The file gets mode ``0o666 & ~umask``. On an error the temporary file is removed; an
    ``OSError`` of a full disk or quota (or any error while less than
    :data:`MIN_FREE_BYTES` is free), or less than ``need_bytes`` free before writing,
    raises :class:`DiskFullError`; other ``OSError`` s while creating or renaming the file
    raise :class:`OutputError` naming it (``PermissionError``: its directory).
    ``suffix`` ends the temporary name (writers that pick the format by suffix).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if need_bytes and free_bytes(path.parent) < need_bytes:
            raise _disk_full(path, path.parent)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OutputError:
        raise
    except OSError as exc:
        raise _output_error(exc, path) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        full = isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS
        if not full and isinstance(exc, (OSError, RuntimeError)):  # HDF5 hides ENOSPC
            with contextlib.suppress(OSError):
                full = free_bytes(path.parent) < MIN_FREE_BYTES
        with contextlib.suppress(OSError):
            tmp.unlink()
        if full:
            raise _disk_full(path, path.parent) from exc
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _output_error(exc, path) from exc
        raise


def atomic_write(path: str | os.PathLike, data: str | bytes) -> None:
    """Write ``data`` (text as UTF-8) to ``path`` through :func:`atomic_path`."""
    raw = data.encode() if isinstance(data, str) else data
    with atomic_path(path, need_bytes=len(raw)) as tmp:
        tmp.write_bytes(raw)


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """A chunk manifest written by :func:`~ness_core.sweep.plan_study`."""
    with open(path) as fh:
        return json.load(fh)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON to ``path`` through :func:`atomic_write`."""
    atomic_write(path, json.dumps(obj, separators=(",", ":")))


def file_digest(path: str | os.PathLike) -> str:
    """blake2b (128-bit) hex digest of a file's bytes."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as fh:
        while block := fh.read(2**20):
            h.update(block)
    return h.hexdigest()


def digest_path(path: str | os.PathLike) -> Path:
    """``<chunk>.nc.digest`` beside the chunk result ``path``."""
    path = Path(path)
    return path.with_name(path.name + DIGEST_SUFFIX)


def write_digest(written: str | os.PathLike, path: str | os.PathLike) -> None:
    """Record the digest of ``written`` (the temporary file that becomes ``path``).

    The digest file gets the mtime of ``written``: while the result's mtime equals it, the
    result is unchanged since its digest was checked (:func:`verify_chunk`).
    """
    st = os.stat(written)
    target = digest_path(path)
    atomic_write(target, json.dumps({"blake2b": file_digest(written), "size": st.st_size}))
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))


def move_aside(path: str | os.PathLike) -> Path:
    """Rename ``path`` to ``<path>.corrupt`` (``.corrupt.2``, … if taken); the new path."""
    path = Path(path)
    target = path.with_name(path.name + CORRUPT_SUFFIX)
    k = 1
    while target.exists():
        k += 1
        target = path.with_name(f"{path.name}{CORRUPT_SUFFIX}.{k}")
    try:
        os.replace(path, target)
    except OSError as exc:
        raise OutputError(exc.errno, f"cannot move the corrupt file {path} aside to "
                                     f"{target.name}: {exc.strerror}") from exc
    return target


def _chunk_point_ids(path: Path) -> list[str]:
    import netCDF4

    with netCDF4.Dataset(path) as nc:
        return [str(p) for p in nc.variables["point"][:]]


def verify_chunk(path: str | os.PathLike, point_ids: Iterable[str],
                 update: bool = False, full: bool = False) -> str | None:
    """``None`` if the chunk result ``path`` is intact, else why not (one phrase).

    Intact: its mtime equals its digest file's (unless ``full``), or its size and blake2b
    match the digest file's record (with ``update`` the digest file then takes the result's
    mtime). Without a readable digest file the result must open and hold exactly
    ``point_ids``; with ``update`` a digest is then written.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    check = digest_path(path)
    try:
        if check.stat().st_mtime_ns == st.st_mtime_ns and not full:
            return None
        record = json.loads(check.read_text())
        size, digest = int(record["size"]), str(record["blake2b"])
    except (OSError, ValueError, KeyError, TypeError):
        record = None
    if record is not None:
        if st.st_size != size:
            return f"{st.st_size} bytes, its digest says {size}"
        try:
            if file_digest(path) != digest:
                return "its bytes do not match its digest"
        except OSError as exc:
            return f"unreadable ({exc.strerror or exc})"
        if update:  # checked at this mtime: the next check is a stat
            with contextlib.suppress(OSError):
                os.utime(check, ns=(st.st_atime_ns, st.st_mtime_ns))
        return None
    try:
        found = _chunk_point_ids(path)
    except (OSError, RuntimeError, KeyError, ValueError, IndexError) as exc:
        return f"unreadable ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if sorted(found) != sorted(point_ids):
        return "its point ids differ from its manifest's"
    if update:
        with contextlib.suppress(OSError):
            write_digest(path, path)
    return None


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr, flush=True)


def existing_chunks(directory: str | os.PathLike, verify: bool = True,
                    repair: bool = False) -> tuple[dict[str, list[str]], set[str]]:
    """Manifests in ``directory`` (chunk id → point ids) and the ids of computed chunks.

    An unreadable manifest, and with ``verify`` a result that fails :func:`verify_chunk`,
    is left out and reported on stderr; with ``repair`` (planning for a run) it is moved
    aside (:func:`move_aside`) and a checked digest records the file's mtime, so the next
    check is a ``stat``.
    """
    directory = Path(directory)
    manifests = {}
    for path in sorted(directory.glob("*.json")):
        try:
            manifests[path.stem] = [str(q["id"]) for q in read_manifest(path)["points"]]
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            what = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            done = (f"moved aside to {move_aside(path).name}" if repair
                    else "it would be moved aside")
            _warn(f"chunk manifest {path} is unreadable ({what}); {done} and its points "
                  f"planned again")
    computed = {p.stem for p in directory.glob("*.nc")} & manifests.keys()
    if verify:
        for cid in sorted(computed):
            path = directory / f"{cid}.nc"
            problem = verify_chunk(path, manifests[cid], update=repair)
            if problem is None:
                continue
            computed.discard(cid)
            if repair and path.exists():
                target = move_aside(path)
                if digest_path(path).exists():
                    move_aside(digest_path(path))
                _warn(f"chunk result {path} is corrupt ({problem}); moved aside to "
                      f"{target.name}, recomputed when its dataset is next built")
            else:
                _warn(f"chunk result {path} is corrupt ({problem}); counted as to compute")
    return manifests, computed


def peak_memory_mb(paths: Iterable[str | os.PathLike]) -> float | None:
    """Largest ``peak_rss_mb`` attribute of the given chunk files (``None`` if none has one).

    Files that cannot be read are skipped.
    """
    import netCDF4

    peaks = []
    for path in paths:
        try:
            with netCDF4.Dataset(path) as nc:
                if "peak_rss_mb" in nc.ncattrs():
                    peaks.append(float(nc.getncattr("peak_rss_mb")))
        except (OSError, RuntimeError, ValueError):
            continue
    return max(peaks, default=None)
