"""Chunk files under ``results/<study>/chunks/``: manifests (``<chunk>.json``, what to
compute) and results (``<chunk>.nc``), written atomically so a killed job leaves no half file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """A chunk manifest written by :func:`plan_study`."""
    with open(path) as fh:
        return json.load(fh)


def write_json_atomic(path: str | os.PathLike, obj: Any) -> None:
    """Write JSON to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(obj, fh, indent=1)
    os.replace(tmp, path)


def existing_chunks(directory: str | os.PathLike) -> tuple[dict[str, list[str]], set[str]]:
    """Manifests in ``directory`` (chunk id → point ids) and the ids of computed chunks."""
    directory = Path(directory)
    manifests = {p.stem: [q["id"] for q in read_manifest(p)["points"]]
                 for p in sorted(directory.glob("*.json"))}
    computed = {p.stem for p in directory.glob("*.nc")} & manifests.keys()
    return manifests, computed


def peak_memory_mb(paths: Iterable[str | os.PathLike]) -> float | None:
    """Largest ``peak_rss_mb`` attribute of the given chunk files (``None`` if none has one)."""
    import netCDF4

    peaks = []
    for path in paths:
        with netCDF4.Dataset(path) as nc:
            if "peak_rss_mb" in nc.ncattrs():
                peaks.append(float(nc.getncattr("peak_rss_mb")))
    return max(peaks, default=None)
