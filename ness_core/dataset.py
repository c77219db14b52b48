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

from ness_core.chunk_files import atomic_path, write_digest
from ness_core.errors import ModelContractError
from ness_core.model import Model
from ness_core.models import get_model, plugin_provenance
from ness_core.provenance import provenance_attrs
from ness_core.sweep import Study
from ness_core.warm import solve_path

ENGINE = "netcdf4"


def _observable_array(model: Model, name: str, values: Sequence[Any]) -> tuple[tuple, np.ndarray]:
    """Stack per-point values of one observable, padding model dims with NaN.

    Values come from :func:`~ness_core.api.evaluate`, which has checked their shapes; one
    with another number of dims still raises :class:`ModelContractError`, never becomes NaN.
    """
    obs = next(o for o in model.all_observables() if o.name == name)
    if obs.kind is str:
        return ("point",), np.array([str(v) for v in values], dtype=object)
    arrays = [np.asarray(v, dtype=float) for v in values]
    wrong = next((a.shape for a in arrays if a.ndim != len(obs.dims)), None)
    if wrong is not None:
        raise ModelContractError(f"model '{model.name}', observable '{name}': shape {wrong}, "
                                 f"expected {len(obs.dims)} dims {obs.dims}")
    if not obs.dims:
        return ("point",), np.array([a.item() for a in arrays])
    shape = tuple(max((a.shape[k] for a in arrays), default=0)
                  for k in range(len(obs.dims)))
    out = np.full((len(arrays), *shape), np.nan)
    for i, a in enumerate(arrays):
        if a.size:
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
    """Evaluate every point of a chunk manifest (failed points carry status and NaN), in
    manifest order as one path (:func:`ness_core.warm.solve_path`: warm starts from point to
    point, refusals logged).

    ``progress(done, total)``, if given, is called after each point
    (:class:`ness_core.progress.ChunkProgress.update`).
    """
    points = manifest["points"]
    results = solve_path(manifest["model"], [p["params"] for p in points],
                         progress=None if progress is None
                         else lambda done: progress(done, len(points)))
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


def assemble(study: Study, paths: Sequence[str | os.PathLike],
             missing_ok: bool = False) -> xr.Dataset:
    """The study's dataset on its grid from its chunk files (extra points are ignored).

    With ``missing_ok`` (a refined study on its union grid, :mod:`ness_core.refine_rounds`)
    points without a result are NaN (``status`` "") instead of an error.

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
    if not filled.all() and not missing_ok:
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
    return cf_conventions(ds, len(paths))


def provenance(study: Study) -> dict[str, str]:
    """Global attrs: study, model, parameters, versions, config hash, code version, time.

    ``config_hash`` is :meth:`Study.config_hash` of the study as gathered (model, sweep and
    fixed parameters); ``created`` is the gather time (UTC); package versions (every runtime
    dependency, recursively, as one JSON string), ness-sweep's version and commit and the
    commit of the user's repository (the working directory's) are
    :func:`ness_core.provenance.provenance_attrs`; a plugin model adds ``model_plugin``,
    ``"<distribution>==<version>"`` of the package that provides it.
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
        **({"model_plugin": plugin} if (plugin := plugin_provenance(study.model)) else {}),
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


CONVENTIONS = "CF-1.11"
# The real (SI) units models declare, as UDUNITS spells them; a quantity counted in k_B
# (entropy) is in nats, dimensionless. Every other declared unit is the model's own unit
# system (ħ = k_B = 1; its time, energy, concentration scales; counts such as "cells").
UDUNITS = {"1": "1", "K": "K", "V": "V", "m": "m", "1/s": "s-1", "A/m²": "A m-2",
           "mol/m³": "mol m-3", "m²/s": "m2 s-1", "k_B/(s·m²)": "m-2 s-1"}
MODEL_UNITS_CONVENTION = (
    "A variable's units attribute is its UDUNITS unit. units = '1' with a model_units "
    "attribute marks a quantity in the model's own unit system (hbar = k_B = 1; time, "
    "energy, temperature, concentration in the scales the model's docstring defines, shown "
    "by `ness models MODEL`; counts such as 'cells'); model_units is its unit in those "
    "terms, e.g. '1/time', 'energy', 'k_B/time'. Where a real unit is spelt differently by "
    "the model (A/m², k_B per s·m²), model_units keeps the model's spelling.")


def cf_units(unit: str) -> tuple[str, str | None]:
    """``(units, model_units)`` of a declared unit: its UDUNITS spelling where it is a real
    unit (:data:`UDUNITS`), else ``"1"`` with the declared unit as ``model_units`` (``None``
    where the two agree; ``""``, no unit, is ``"1"``)."""
    if not unit:
        return "1", None
    units = UDUNITS.get(unit, "1")
    return units, (None if units == unit else unit)


def declared_unit(var: xr.DataArray) -> str:
    """The unit the model declared for ``var`` (``model_units`` if set, else ``units``):
    what axis labels and tables show."""
    return str(var.attrs.get("model_units", var.attrs.get("units", "")))


def cf_conventions(ds: xr.Dataset, chunk_files: int) -> xr.Dataset:
    """``ds`` (a study's dataset) made CF-compliant in place: UDUNITS ``units`` with the
    model's own unit in ``model_units`` (:func:`cf_units`; none on text variables), no
    ``_FillValue`` on coordinates, 64-bit integers stored as 32-bit ones where they fit,
    and the global ``Conventions``, ``history`` (one line:
    when, what and from how many chunk files this file was gathered) and
    ``model_units_convention``."""
    for name, var in ds.variables.items():
        if var.dtype.kind in "OSU":  # text (status, note, string coordinates): no unit
            var.attrs.pop("units", None)
        elif "units" in var.attrs:
            units, model_units = cf_units(str(var.attrs["units"]))
            var.attrs["units"] = units
            if model_units is not None:
                var.attrs["model_units"] = model_units
        if name in ds.coords:
            var.encoding["_FillValue"] = None
        if var.dtype == np.int64 and (var.size == 0 or np.abs(var.values).max() < 2**31):
            var.encoding["dtype"] = "int32"  # the checker's CF types (site, L: small)
    when = ds.attrs.get("created") or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    code = ds.attrs.get("code_version") or f"ness-sweep {_version()}"
    ds.attrs.update(
        Conventions=CONVENTIONS,
        history=f"{when}: {code}: gathered study '{ds.attrs.get('study', '?')}' of model "
                f"'{ds.attrs.get('model', '?')}' from {chunk_files} chunk "
                f"file{'' if chunk_files == 1 else 's'}",
        model_units_convention=MODEL_UNITS_CONVENTION)
    return ds


def _version() -> str:
    from ness_core import __version__

    return __version__


def json_attr(params: Mapping[str, Any]) -> str:
    """Strict JSON of parameters; non-finite floats become ``"inf"``, ``"-inf"``, ``"nan"``."""

    def plain(v: Any) -> Any:
        if isinstance(v, float) and not np.isfinite(v):
            return "nan" if np.isnan(v) else ("inf" if v > 0 else "-inf")
        return v

    return json.dumps({k: plain(v) for k, v in params.items()}, allow_nan=False)
