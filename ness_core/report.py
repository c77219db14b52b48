"""Standalone HTML summary of all studies: config, figures, key numbers, checks, provenance.

The report is one self-contained file (figures embedded as base64 PNG), so it can be mailed
or archived alone. Checks are recomputed from each dataset:

* entropy production σ ≥ −:data:`SIGMA_TOLERANCE` at every point (second law);
* σ = 0 to :data:`SIGMA_TOLERANCE` where ``drive = 0`` (detailed balance), for studies
  whose model has a ``drive`` parameter swept through 0 or fixed at 0;
* largest steady-state residual below :data:`RESIDUAL_TOLERANCE`;
* no point with ``status != "ok"``.
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

from ness_core.dataset import read_netcdf

SIGMA_TOLERANCE = 1e-12
RESIDUAL_TOLERANCE = 1e-8
KEY_NUMBERS = ("current", "entropy_production", "gap")
STYLE = """
body { font-family: sans-serif; max-width: 70em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #bbb; padding: 0.2em 0.6em; text-align: left; }
th { background: #eee; } pre { background: #f6f6f6; padding: 0.6em; }
.pass { color: #176b2c; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
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
        rows.append({"observable": name, "units": ds[name].attrs.get("units", ""),
                     "min": finite.min() if finite.size else np.nan,
                     "max": finite.max() if finite.size else np.nan,
                     "inf": int(np.isinf(v).sum()), "nan": int(np.isnan(v).sum())})
    return rows


def _at_zero_drive(ds: xr.Dataset) -> xr.DataArray | None:
    """σ restricted to drive = 0, or None if the study never has drive = 0."""
    if "drive" in ds.coords and "drive" in ds.dims:
        zero = ds["drive"].values == 0
        return ds["entropy_production"].isel(drive=np.flatnonzero(zero)) if zero.any() else None
    resolved = json.loads(ds.attrs.get("resolved_parameters", "{}"))
    return ds["entropy_production"] if resolved.get("drive") == 0 else None


def consistency_checks(ds: xr.Dataset) -> list[dict[str, Any]]:
    """The checks listed in the module docstring, as rows ``{check, value, passed}``."""
    sigma = ds["entropy_production"].values.astype(float)
    rows = []
    known = sigma[~np.isnan(sigma)]
    smallest = float(known.min()) if known.size else np.nan
    rows.append({"check": f"σ ≥ −{SIGMA_TOLERANCE:g} everywhere", "value": _num(smallest),
                 "passed": bool(known.size == 0 or smallest >= -SIGMA_TOLERANCE)})
    at_zero = _at_zero_drive(ds)
    if at_zero is not None:
        largest = float(np.nanmax(np.abs(at_zero.values))) if at_zero.size else 0.0
        rows.append({"check": f"|σ| ≤ {SIGMA_TOLERANCE:g} at drive = 0",
                     "value": _num(largest), "passed": bool(largest <= SIGMA_TOLERANCE)})
    residual = ds["residual"].values.astype(float)
    worst = float(np.nanmax(residual)) if np.isfinite(residual).any() else np.nan
    rows.append({"check": f"max residual ≤ {RESIDUAL_TOLERANCE:g}", "value": _num(worst),
                 "passed": bool(worst <= RESIDUAL_TOLERANCE)})
    bad = int((ds["status"].values != "ok").sum())
    rows.append({"check": "points with status ≠ ok", "value": f"{bad} of {ds['status'].size}",
                 "passed": bad == 0})
    return rows


def _table(rows: Sequence[Mapping[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in rows[0])
    body = []
    for row in rows:
        cells = []
        for key, value in row.items():
            if key == "passed":
                cls, text = ("pass", "pass") if value else ("fail", "FAIL")
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


def study_section(name: str, spec: Mapping[str, Any], ds: xr.Dataset,
                  figures: Sequence[str | os.PathLike]) -> str:
    """HTML of one study: config, key numbers, checks, figures, provenance."""
    dims = ", ".join(f"{d} = {n}" for d, n in ds.sizes.items())
    provenance = [{"attribute": k, "value": v} for k, v in ds.attrs.items()]
    checks = consistency_checks(ds)
    verdict = "pass" if all(c["passed"] for c in checks) else "fail"
    parts = [
        f'<h2 id="{html.escape(name)}">{html.escape(name)} '
        f'<span class="{verdict}">[{verdict}]</span></h2>',
        f"<p>model <b>{html.escape(ds.attrs.get('model', '?'))}</b>; dims: {dims}</p>",
        "<h3>Config</h3>",
        f"<pre>{html.escape(yaml.safe_dump(json.loads(json.dumps(spec)), sort_keys=False))}"
        "</pre>",  # the JSON round trip unshares defaults, so YAML shows no anchors
        "<h3>Key numbers</h3>", _table(key_numbers(ds)),
        "<h3>Consistency checks</h3>", _table(checks),
        "<h3>Figures</h3>", *(_image(f) for f in figures),
        "<h3>Provenance</h3>", _table(provenance),
    ]
    return "\n".join(parts)


def build_report(studies: Mapping[str, Mapping[str, Any]],
                 datasets: Mapping[str, str | os.PathLike],
                 figures: Sequence[str | os.PathLike]) -> str:
    """The whole report; ``figures`` are matched to studies by their ``<study>/figures/`` dir."""
    sections, index = [], []
    for name, spec in studies.items():
        ds = read_netcdf(datasets[name])
        own = [f for f in figures if Path(f).suffix == ".png" and Path(f).parent.parent.name
               == name]
        ok = all(c["passed"] for c in consistency_checks(ds))
        index.append(f'<li><a href="#{html.escape(name)}">{html.escape(name)}</a> '
                     f'<span class="{"pass" if ok else "fail"}">{"pass" if ok else "FAIL"}'
                     "</span></li>")
        sections.append(study_section(name, spec, ds, own))
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>ness-sweep report"
            f"</title><style>{STYLE}</style></head><body><h1>ness-sweep report</h1>"
            f"<p>Generated {created}. {len(studies)} studies.</p><ul>{''.join(index)}</ul>"
            + "\n".join(sections) + "</body></html>")


def write_report(text: str, path: str | os.PathLike) -> None:
    """Write the HTML text to a temporary file beside ``path`` and rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
