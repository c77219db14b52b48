"""Standalone HTML summary of all studies: config, figures, key numbers, checks, provenance.

The report is one self-contained file (figures embedded as base64 PNG), so it can be mailed
or archived alone. It is built in two steps, so that editing one study rebuilds only that
study's part: :func:`write_section` turns one study's dataset and figures into an HTML
fragment plus a small JSON entry (verdict and provenance: config hash, code version, when
the dataset was computed), and :func:`assemble_report` joins the fragments and entries of
every study into the page without opening a dataset or a figure. Checks are recomputed
from each dataset:

* entropy production σ ≥ −tol at every point (second law);
* σ = 0 to tol at the points the model declares equilibrium (``Model.is_equilibrium``:
  detailed balance holds exactly there), if the study has any;
* largest steady-state residual below :data:`RESIDUAL_TOLERANCE`;
* points with ``status != "ok"``: counted with their reasons, a warning rather than a
  failure (a point may have no solution, e.g. a branch that does not exist at that drive).

tol = :data:`SIGMA_TOLERANCE` · max(1, max |σ|), relative to the study's own scale, since
models in SI units reach σ ~ 1e20.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import yaml

from ness_core.chunk_files import atomic_write
from ness_core.dataset import read_netcdf
from ness_core.models import get_model

SIGMA_TOLERANCE = 1e-12
RESIDUAL_TOLERANCE = 1e-8
KEY_NUMBERS = ("current", "entropy_production", "gap")
STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
th { background: #eee; } pre { background: #f6f6f6; padding: 0.6em; }
.pass { color: #176b2c; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.warn { color: #9a6700; font-weight: bold; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0; }
"""


def _num(x: float) -> str:
    return "—" if x is None or np.isnan(x) else f"{x:.6g}"


def key_numbers(ds: xr.Dataset) -> list[dict[str, Any]]:
    """Range (finite min/max) and the count of inf/NaN values of each core observable."""
    rows = []
    for name in KEY_NUMBERS:
        if name not in ds:
            continue
        v = ds[name].values.astype(float).ravel()
        finite = v[np.isfinite(v)]
        units = ds[name].attrs.get("model_units", ds[name].attrs.get("units", ""))
        rows.append({"observable": name, "units": units,
                     "min": finite.min() if finite.size else np.nan,
                     "max": finite.max() if finite.size else np.nan,
                     "inf": int(np.isinf(v).sum()), "nan": int(np.isnan(v).sum())})
    return rows


def equilibrium_points(ds: xr.Dataset) -> np.ndarray:
    """Boolean mask over the swept grid: points where the model declares detailed balance."""
    model = get_model(ds.attrs["model"])
    resolved = json.loads(ds.attrs.get("resolved_parameters", "{}"))
    axes = json.loads(ds.attrs["swept_axes"])
    shape = tuple(ds.sizes[a] for a in axes)
    mask = np.zeros(shape, dtype=bool)
    for index in np.ndindex(shape):
        point = {a: ds[a].values[i].item() for a, i in zip(axes, index, strict=True)}
        mask[index] = model.is_equilibrium(model.resolve({**resolved, **point}))
    return mask


def consistency_checks(ds: xr.Dataset) -> list[dict[str, Any]]:
    """The checks listed in the module docstring, as rows ``{check, value, passed}``;
    ``passed`` is None for a warning (reported, not a failure)."""
    sigma = ds["entropy_production"].values.astype(float)
    known = sigma[np.isfinite(sigma)]
    tol = SIGMA_TOLERANCE * max(1.0, float(np.abs(known).max()) if known.size else 0.0)
    smallest = float(np.nanmin(sigma)) if (~np.isnan(sigma)).any() else np.nan
    rows = [{"check": f"σ ≥ −{tol:.3g} everywhere", "value": _num(smallest),
             "passed": bool(np.isnan(smallest) or smallest >= -tol)}]
    at_equilibrium = sigma[equilibrium_points(ds)]
    if at_equilibrium.size:
        largest = float(np.nanmax(np.abs(at_equilibrium)))
        rows.append({"check": f"|σ| ≤ {tol:.3g} at the {at_equilibrium.size} equilibrium "
                              "points", "value": _num(largest), "passed": bool(largest <= tol)})
    residual = ds["residual"].values.astype(float)
    worst = float(np.nanmax(residual)) if np.isfinite(residual).any() else np.nan
    rows.append({"check": f"max residual ≤ {RESIDUAL_TOLERANCE:g}", "value": _num(worst),
                 "passed": bool(worst <= RESIDUAL_TOLERANCE)})
    status = ds["status"].values
    bad = status[status != "ok"]
    reasons = "; ".join(sorted({str(r) for r in bad})[:3])
    rows.append({"check": "points with status ≠ ok",
                 "value": f"{bad.size} of {status.size}" + (f" ({reasons})" if bad.size else ""),
                 "passed": True if bad.size == 0 else None})
    return rows


def verdict(checks: Sequence[Mapping[str, Any]]) -> str:
    """"fail" if any check failed, "warn" if any warned, else "pass"."""
    passed = [c["passed"] for c in checks]
    return "fail" if False in passed else ("warn" if None in passed else "pass")


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = []
    for row in rows:
        cells = []
        for key, value in row.items():
            if key == "passed":
                cls = {True: "pass", False: "fail", None: "warn"}[value]
                text = {"pass": "pass", "fail": "FAIL", "warn": "warning"}[cls]
                cells.append(f'<td class="{cls}">{text}</td>')
            else:
                shown = _num(value) if isinstance(value, float) else str(value)
                cells.append(f"<td>{html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _image(path: str | os.PathLike) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    name = html.escape(Path(path).stem)
    return f'<figure><img alt="{name}" src="data:image/png;base64,{data}">' \
           f"<figcaption>{name}</figcaption></figure>"


def provenance_summary(ds: xr.Dataset) -> dict[str, str]:
    """Config hash, code version and creation time recorded in a dataset's attrs.

    ``code_version`` is written at gather time (:func:`ness_core.dataset.provenance`);
    datasets gathered before it existed fall back to the package version and git commit.
    """
    attrs = ds.attrs
    code = attrs.get("code_version")
    if not code:
        version = json.loads(attrs.get("package_versions", "{}")).get("ness-sweep", "?")
        commit = attrs.get("git_commit", "unknown")
        code = f"ness-sweep {version}" + ("" if commit == "unknown" else f", git {commit}")
    return {"config_hash": str(attrs.get("config_hash", "?")), "code_version": str(code),
            "computed": str(attrs.get("created", "?"))}


def _user_repository(attrs: Mapping[str, Any]) -> str:
    """``; in repository <commit>[ with uncommitted changes]`` from the dataset's
    ``user_repository_*`` attrs (:mod:`ness_core.provenance`), or nothing outside a repository."""
    commit = attrs.get("user_repository_commit")
    if not commit:
        return ""
    dirty = {"true": " with uncommitted changes", "unknown": " (changes unknown)"}.get(
        str(attrs.get("user_repository_dirty")), "")
    return f"; in repository <code>{html.escape(str(commit))}</code>{dirty}"


def study_section(name: str, spec: Mapping[str, Any], ds: xr.Dataset,
                  figures: Sequence[str | os.PathLike],
                  checks: Sequence[Mapping[str, Any]] | None = None) -> str:
    """HTML of one study: provenance line, config, key numbers, checks, figures, provenance."""
    dims = ", ".join(f"{d} = {n}" for d, n in ds.sizes.items())
    provenance = [{"attribute": k, "value": v} for k, v in ds.attrs.items()]
    checks = consistency_checks(ds) if checks is None else checks
    outcome = verdict(checks)
    made = provenance_summary(ds)
    parts = [
        f'<section id="{html.escape(name)}">',
        f'<h2>{html.escape(name)} <span class="{outcome}">[{outcome}]</span></h2>',
        f"<p>model <b>{html.escape(ds.attrs.get('model', '?'))}</b>; dims: {dims}</p>",
        f"<p>config hash <code>{html.escape(made['config_hash'])}</code>; code "
        f"{html.escape(made['code_version'])}; computed {html.escape(made['computed'])}"
        f"{_user_repository(ds.attrs)}</p>",
        "<h3>Config</h3>",
        f"<pre>{html.escape(yaml.safe_dump(json.loads(json.dumps(spec)), sort_keys=False))}"
        "</pre>",  # the JSON round trip unshares defaults, so YAML shows no anchors
        "<h3>Key numbers</h3>", _table(key_numbers(ds)),
        "<h3>Consistency checks</h3>", _table(checks),
        "<h3>Figures</h3>", *(_image(f) for f in figures if Path(f).suffix == ".png"),
        "<h3>Provenance</h3>", _table(provenance),
        "</section>",
    ]
    return "\n".join(parts)


def write_section(name: str, spec: Mapping[str, Any], dataset_path: str | os.PathLike,
                  figures: Sequence[str | os.PathLike], html_path: str | os.PathLike,
                  entry_path: str | os.PathLike) -> dict[str, Any]:
    """Write one study's report section (HTML fragment) and its index entry (JSON).

    The entry holds what :func:`assemble_report` lists per study: name, model, number of
    points, verdict, config hash, code version and when the dataset was computed.
    """
    ds = read_netcdf(dataset_path)
    checks = consistency_checks(ds)
    axes = json.loads(ds.attrs.get("swept_axes", "[]"))
    entry = {"study": name, "model": ds.attrs.get("model", "?"),
             "points": int(np.prod([ds.sizes[a] for a in axes])) if axes else 1,
             "verdict": verdict(checks), **provenance_summary(ds)}
    write_report(study_section(name, spec, ds, figures, checks), html_path)
    write_report(json.dumps(entry, indent=1), entry_path)
    return entry


def assemble_report(entries: Sequence[Mapping[str, Any]], sections: Sequence[str]) -> str:
    """The whole page from the studies' index entries and HTML sections (in config order)."""
    rows = "".join(
        f'<tr><td><a href="#{html.escape(e["study"])}">{html.escape(e["study"])}</a></td>'
        f'<td>{html.escape(e["model"])}</td><td>{e["points"]}</td>'
        f'<td class="{e["verdict"]}">{e["verdict"]}</td>'
        f'<td><code>{html.escape(e["config_hash"])}</code></td>'
        f'<td>{html.escape(e["code_version"])}</td><td>{html.escape(e["computed"])}</td></tr>'
        for e in entries)
    head = ("<tr><th>study</th><th>model</th><th>points</th><th>checks</th>"
            "<th>config hash</th><th>code version</th><th>computed</th></tr>")
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ness-sweep report"
            f"</title><style>{STYLE}</style></head><body><h1>ness-sweep report</h1>"
            f"<p>Assembled {created} from {len(entries)} study sections.</p>"
            f"<table>{head}{rows}</table>\n" + "\n".join(sections) + "</body></html>")


def write_report(text: str, path: str | os.PathLike) -> None:
    """Write the text (UTF-8) to ``path`` atomically (:func:`.chunk_files.atomic_write`)."""
    atomic_write(path, text)
