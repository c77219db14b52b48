"""Results as labelled xarray data: chunk files, the per-study dataset, provenance, netCDF I/O.

A *chunk file* holds the points of one chunk along a ``point`` dimension (coordinate: the
point ids), one variable per observable, model dims such as ``site`` padded with NaN to the
longest array in the chunk. :func:`assemble` streams the chunk files of a study into its
dataset: dims = swept axes (config order) + model dims, coordinates with ``units`` and
``long_name`` from the model's :class:`~ness_core.model.Parameter` declarations, variables
with the :class:`~ness_core.model.Observable` attrs, global attrs for provenance. Model dims
get 1-based integer coordinates. Files are written with the netCDF4 engine through a
temporary file and a rename, so a finished file is always complete.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from ness_core.api import evaluate
from ness_core.chunk_files import atomic_path, write_digest
from ness_core.model import Model
from ness_core.models import get_model
from ness_core.provenance import provenance_attrs
from ness_core.sweep import Study

ENGINE = "netcdf4"


def _observable_array(model: Model, name: str, values: Sequence[Any]) -> tuple[tuple, np.ndarray]:
    """Stack per-point values of one observable, padding model dims with NaN."""
    obs = next(o for o in model.all_observables() if o.name == name)
    if obs.kind is str:
        return ("point",), np.array([str(v) for v in values], dtype=object)
    arrays = [np.asarray(v, dtype=float) for v in values]
    if not obs.dims:
        return ("point",), np.array([a.item() if a.size == 1 else np.nan for a in arrays])
    shape = tuple(max((a.shape[k] for a in arrays if a.ndim == len(obs.dims)), default=0)
                  for k in range(len(obs.dims)))
    out = np.full((len(arrays), *shape), np.nan)
    for i, a in enumerate(arrays):
        if a.ndim == len(obs.dims) and a.size:
            out[(i, *(slice(0, n) for n in a.shape))] = a
    return ("point", *obs.dims), out


def chunk_dataset(model_name: str, point_ids: Sequence[str],
                  results: Sequence[Mapping[str, Any]]) -> xr.Dataset:
    """Dataset of one chunk from ``evaluate`` results, one per point id."""
    model = get_model(model_name)
    data = {o.name: _observable_array(model, o.name, [r[o.name] for r in results])
            for o in model.all_observables()}
    ds = xr.Dataset(data, coords={"point": np.array(point_ids, dtype=object)})
    return _with_dim_coords(ds, ("point",))


def compute_chunk(manifest: Mapping[str, Any],
                  progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
    """Evaluate every point of a chunk manifest (failed points carry status and NaN).

    ``progress(done, total)``, if given, is called after each point
    (:class:`ness_core.progress.ChunkProgress.update`).
    """
    points = manifest["points"]
    results = []
    for p in points:
        results.append(evaluate(manifest["model"], **p["params"]))
        if progress is not None:
            progress(len(results), len(points))
    return chunk_dataset(manifest["model"], [p["id"] for p in points], results)


def _with_dim_coords(ds: xr.Dataset, skip: Sequence[str]) -> xr.Dataset:
    """1-based integer coordinates for model dims (``site`` = 1..L)."""
    for dim, size in ds.sizes.items():
        if dim not in skip and dim not in ds.coords:
            ds = ds.assign_coords({dim: np.arange(1, size + 1)})
            ds[dim].attrs.update(units="1", long_name=f"{dim} index (1-based)")
    return ds


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, digest: bool = False) -> None:
    """Write ``ds`` with the netCDF4 engine to a temporary file and rename it to ``path``.

    Through :func:`~ness_core.chunk_files.atomic_path`: the file gets mode
    ``0o666 & ~umask``, and a full disk raises
    :class:`~ness_core.chunk_files.DiskFullError` naming ``path`` (also before writing,
    when less than the data's size is free). With ``digest`` (chunk results) the file's
    digest is written beside it before the rename (:func:`~ness_core.chunk_files.write_digest`).
    """
    with atomic_path(path, need_bytes=int(ds.nbytes)) as tmp:
        ds.to_netcdf(tmp, engine=ENGINE)
        if digest:
            write_digest(tmp, path)


def read_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Load a file written by :func:`write_netcdf` fully into memory and close it."""
    with xr.open_dataset(path, engine=ENGINE) as ds:
        return ds.load()


def assemble(study: Study, paths: Sequence[str | os.PathLike]) -> xr.Dataset:
    """The study's dataset on its grid from its chunk files (extra points are ignored).

    Streams: a first pass reads only each file's point ids and dim sizes, then every
    observable is allocated once on the full grid and filled one chunk file at a time, so
    peak memory is the dataset plus one chunk. A point held by several chunks is taken from
    the first file that holds it.
    """
    model = get_model(study.model)
    points = study.points()
    row = {p.id: k for k, p in enumerate(points)}
    sizes: dict[str, int] = {}
    for path in paths:
        with xr.open_dataset(path, engine=ENGINE) as chunk:
            for dim, n in chunk.sizes.items():
                if dim != "point":
                    sizes[dim] = max(sizes.get(dim, 0), n)
    out = {}
    for obs in model.all_observables():
        shape = (len(points), *(sizes.get(d, 0) for d in obs.dims))
        out[obs.name] = (np.full(shape, "", dtype=object) if obs.kind is str
                         else np.full(shape, np.nan))
    filled = np.zeros(len(points), dtype=bool)
    for path in paths:
        chunk = read_netcdf(path)
        rows = np.array([row.get(str(pid), -1) for pid in chunk["point"].values], dtype=int)
        take = rows >= 0
        take[take] = ~filled[rows[take]]
        for name, array in out.items():
            if name not in chunk:  # a chunk written before the observable existed (note)
                continue
            values = chunk[name].values[take]
            array[(rows[take], *(slice(0, n) for n in values.shape[1:]))] = values
        filled[rows[take]] = True
    if not filled.all():
        first = points[int(np.argmin(filled))].id
        raise ValueError(f"study '{study.name}': {int((~filled).sum())} points have no result, "
                         f"e.g. {first}")
    data = {}
    for obs in model.all_observables():
        attrs = {"units": obs.unit, "long_name": obs.long_name}
        array = out[obs.name]
        data[obs.name] = ((*study.axes, *obs.dims), array.reshape(study.shape + array.shape[1:]),
                          attrs)
    coords = {}
    for axis, values in study.axes.items():
        par = model.parameter(axis)
        coords[axis] = (axis, np.array(values), {"units": par.unit, "long_name": par.meaning})
    ds = _with_dim_coords(xr.Dataset(data, coords=coords), tuple(study.axes))
    ds.attrs.update(provenance(study))
    return ds


def provenance(study: Study) -> dict[str, str]:
    """Global attrs: study, model, parameters, versions, config hash, code version, time.

    ``config_hash`` is :meth:`Study.config_hash` of the study as gathered (model, sweep and
    fixed parameters); ``created`` is the gather time (UTC); package versions (every runtime
    dependency, recursively, as one JSON string), ness-sweep's version and commit and the
    commit of the user's repository (the working directory's) are
    :func:`ness_core.provenance.provenance_attrs`.
    """
    model = get_model(study.model)
    resolved = model.resolve(dict(study.fixed))
    defaults = {k: v for k, v in resolved.items() if k not in study.axes}
    return {
        "title": f"ness-sweep study '{study.name}' of model '{study.model}'",
        "study": study.name,
        "model": study.model,
        "swept_axes": json.dumps(list(study.axes)),
        "fixed_parameters": json_attr(study.fixed),
        "resolved_parameters": json_attr(defaults),
        "config_hash": study.config_hash(),
        **provenance_attrs(),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def json_attr(params: Mapping[str, Any]) -> str:
    """Strict JSON of parameters; non-finite floats become ``"inf"``, ``"-inf"``, ``"nan"``."""

    def plain(v: Any) -> Any:
        if isinstance(v, float) and not np.isfinite(v):
            return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        return v

    return json.dumps({k: plain(v) for k, v in params.items()}, allow_nan=False)
