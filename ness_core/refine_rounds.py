"""Refinement rounds of a study in the pipeline: computed chunks → next points → outputs.

A study with a ``refine:`` block (:mod:`ness_core.refinement`) is computed on its grid
first; then the checkpoint ``refine_round`` (workflow/rules/refine.smk) runs
:func:`next_round` once per round ``r = 0, 1, …``: it reads every chunk computed so far,
proposes each slice's next points, chunks them (points get the usual stable ids, and
:func:`ness_core.sweep.plan_chunks` reuses any chunk in ``results/<study>/chunks/`` that
already holds one, so nothing is computed twice) and writes their manifests, then
``results/<study>/refine/round_<r>.json``::

    {"round": r, "done": bool, "axis": "drive", "axis_values": [...union, sorted...],
     "chunks": [...refinement chunks of rounds 0..r...], "slices": [{"select": {...},
     "location": ..., ..., "proposed": [...]}, ...]}

``done`` (nothing proposed: every slice converged or out of budget) ends the rounds;
:func:`write_outputs` turns the last round into ``refinement.json`` and ``refinement.nc``.
A slice is one combination of the values of the other swept axes (``select``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ness_core import chunk_files, dataset, refinement, sweep
from ness_core.models import get_model


def slices(study: sweep.Study) -> list[dict[str, Any]]:
    """Every combination of the other swept axes, in grid order (``[{}]`` for one axis)."""
    others = {k: v for k, v in study.axes.items() if k != study.refine["axis"]}
    return [dict(zip(others, combo, strict=True)) for combo in itertools.product(*others.values())]


def _samples(paths: Sequence[str | os.PathLike], observable: str
             ) -> list[tuple[dict[str, Any], float]]:
    """(params, value of ``observable``) of every point of the chunk files ``paths``."""
    out = []
    for path in paths:
        manifest = chunk_files.read_manifest(Path(path).with_suffix(".json"))
        params = {p["id"]: p["params"] for p in manifest["points"]}
        ds = dataset.read_netcdf(path)
        for pid, value in zip(ds["point"].values, ds[observable].values, strict=True):
            out.append((params[str(pid)], float(value)))
    return out


def union_study(study: sweep.Study, axis_values: Sequence[float]) -> sweep.Study:
    """``study`` with the refined axis on the union grid ``axis_values`` (the dataset's)."""
    axes = {k: (list(axis_values) if k == study.refine["axis"] else v)
            for k, v in study.axes.items()}
    return dataclasses.replace(study, axes=axes)


def next_round(study: sweep.Study, r: int, paths: Sequence[str | os.PathLike],
               previous: dict[str, Any] | None, directory: str | os.PathLike) -> dict[str, Any]:
    """Round ``r`` of ``study`` from the computed chunk files ``paths`` (grid and earlier
    rounds) and the previous round's record; writes the manifests of new chunks in
    ``directory`` and returns the round's record (see the module docstring)."""
    spec = study.refine
    axis = spec["axis"]
    samples = _samples(paths, spec["observable"])
    names = [k for k in study.axes if k != axis]
    records, new_points = [], []
    values = set(float(v) for v in study.axes[axis])
    m = get_model(study.model)
    base = {**{p.name: p.default for p in m.parameters}, **study.fixed}
    for select in slices(study):
        xy = {}
        for params, y in samples:
            if all(params[k] == select[k] for k in names):
                xy[float(params[axis])] = y
        xs = sorted(xy)
        values.update(xs)
        status, proposed = refinement.propose(xs, [xy[x] for x in xs], spec["target"],
                                              spec["tolerance"], spec["max_points"] - len(xs))
        records.append({"select": select, **status.as_dict(), "proposed": proposed})
        for x in proposed:
            params = {**base, **select, axis: x}
            new_points.append(sweep.Point(sweep.point_id(study.model, params),
                                          tuple(params[k] for k in study.axes), base,
                                          tuple(study.axes)))
        values.update(proposed)
    chunks: list[str] = list(previous["chunks"]) if previous else []
    if new_points:
        manifests, computed = chunk_files.existing_chunks(directory, verify=False)
        per_slice = max(len(rec["proposed"]) for rec in records)
        planned = sweep.plan_chunks(dataclasses.replace(study, chunk_size=per_slice),
                                    new_points, manifests, computed)
        for chunk in planned:
            if chunk.id not in manifests:
                sweep.write_manifest(Path(directory, f"{chunk.id}.json"), chunk, study)
            if chunk.id not in chunks:
                chunks.append(chunk.id)
    return {"round": r, "done": not new_points, "axis": axis,
            "axis_values": sorted(values), "chunks": chunks, "slices": records}


def entries(study: sweep.Study, record: dict[str, Any]) -> list[dict[str, Any]]:
    """``refinement.json``: one entry per slice of the last round's ``record``."""
    spec = study.refine
    return [{"select": s["select"], "axis": spec["axis"], "target": spec["target"],
             "observable": spec["observable"], "location": s["location"], "value": s["value"],
             "uncertainty": s["uncertainty"], "points": s["points"],
             "converged": s["converged"], "location_uncertainty": s["location_uncertainty"],
             "at_edge": s["at_edge"], "rounds": record["round"]} for s in record["slices"]]


def write_outputs(study: sweep.Study, record: dict[str, Any], json_path: str | os.PathLike,
                  nc_path: str | os.PathLike) -> None:
    """``refinement.json`` and the same numbers as ``refinement.nc`` (dims: the slice axes)."""
    rows = entries(study, record)
    chunk_files.write_json_atomic(json_path, rows)
    others = {k: v for k, v in study.axes.items() if k != study.refine["axis"]}
    shape = tuple(len(v) for v in others.values())
    data = {}
    for key in ("location", "value", "uncertainty", "location_uncertainty", "points",
                "converged", "at_edge"):
        array = np.array([row[key] for row in rows]).reshape(shape)
        data[key] = (tuple(others), array.astype(int) if array.dtype == bool else array)
    ds = xr.Dataset(data, coords={k: np.array(v) for k, v in others.items()})
    ds.attrs.update(study=study.name, model=study.model, refine=json.dumps(study.refine),
                    rounds=int(record["round"]))
    dataset.write_netcdf(ds, nc_path)


def draw_summary(summary: xr.Dataset, outputs: Sequence[str | os.PathLike]) -> None:
    """Located target against the first slice axis (``refinement.nc``): location with its
    uncertainty above, value below (log axis when all positive); one curve per value of
    the other slice axes; unconverged slices drawn hollow."""
    from matplotlib.figure import Figure  # no pyplot state: run: jobs share one process

    spec = json.loads(summary.attrs["refine"])
    dims = list(summary["location"].dims)
    fig = Figure(figsize=(6.4, 5.6), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    if dims:
        x, rest = dims[0], dims[1:]
        stacked = summary.stack(curve=rest) if rest else summary.expand_dims(curve=[0])
        for curve in stacked["curve"].values:
            sub = stacked.sel(curve=curve)
            label = ", ".join(f"{d}={v:g}" for d, v in zip(rest, np.atleast_1d(curve),
                                                             strict=False)) or None
            xs = sub[x].values
            done = sub["converged"].values.astype(bool)
            line = top.errorbar(xs, sub["location"], yerr=sub["location_uncertainty"],
                                marker="o", label=label)
            bottom.plot(xs, sub["value"], marker="o", color=line[0].get_color())
            bottom.plot(xs[~done], sub["value"].values[~done], "o", mfc="white",
                        color=line[0].get_color())
        bottom.set_xlabel(x)
        if len(rest):
            top.legend(fontsize="small")
    else:
        top.errorbar([0], [float(summary["location"])],
                     yerr=[float(summary["location_uncertainty"])], marker="o")
        bottom.plot([0], [float(summary["value"])], marker="o")
    top.set_ylabel(f"{spec['target']} location: {spec['axis']}")
    bottom.set_ylabel(f"{spec['observable']} at the {spec['target']}")
    if (summary["value"].values > 0).all():
        bottom.set_yscale("log")
    top.set_title(f"study {summary.attrs['study']}: refined to {spec['tolerance']:g}")
    for path in outputs:
        fig.savefig(path, dpi=150)
