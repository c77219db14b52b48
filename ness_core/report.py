"""Standalone HTML summary of all studies: config, figures, key numbers, checks, provenance.

The report is one self-contained file (figures embedded as base64 PNG) beside ``results/``:
its download links (each study's ``dataset.nc``, each figure's PDF, each comparison's PDF and
JSON) are relative paths from the page's directory, so the page works where it was written,
or mailed with the results directory it points into. It is built in two steps, so that
editing one study rebuilds only that study's part: :func:`write_section` turns one study's
dataset and figures into an HTML fragment plus a small JSON entry (verdict and provenance:
config hash, code version, when the dataset was computed), and :func:`assemble_report`
joins the fragments and entries of every study, and the comparisons
(``results/comparisons/NAME.json``, :func:`load_comparison`), into the page without opening a
dataset or a study figure. This module computes what the page says; the layout is the Jinja
templates ``ness_core/templates/*.j2`` (autoescaped: config text and names are shown, never
interpreted as HTML). Checks are recomputed from each dataset:

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
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import numpy as np
import xarray as xr
import yaml
from docutils.core import publish_parts

from ness_core.chunk_files import atomic_write
from ness_core.dataset import read_netcdf
from ness_core.models import get_model

SIGMA_TOLERANCE = 1e-12
RESIDUAL_TOLERANCE = 1e-8
KEY_NUMBERS = ("current", "entropy_production", "gap")


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
    status = status[status != ""]  # "": no point there (a refined study's union grid)
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



def user_repository(attrs: Mapping[str, Any]) -> dict[str, str] | None:
    """Commit of the user's repository and its state (``""``, ``" with uncommitted changes"``
    or ``" (changes unknown)"``) from the dataset's ``user_repository_*`` attrs
    (:mod:`ness_core.provenance`), or ``None`` outside a repository."""
    commit = attrs.get("user_repository_commit")
    if not commit:
        return None
    state = {"true": " with uncommitted changes", "unknown": " (changes unknown)"}.get(
        str(attrs.get("user_repository_dirty")), "")
    return {"commit": str(commit), "state": state}


def without_nulls(value: Any) -> Any:
    """``value`` with every mapping entry whose value is ``None`` left out, at any depth: the
    schema fills unset optional keys with ``null`` defaults, which say nothing to a reader."""
    if isinstance(value, Mapping):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [without_nulls(v) for v in value]
    return value


def config_text(spec: Mapping[str, Any]) -> str:
    """A study's config entry as YAML, without its null defaults and its ``description``
    (shown above it). The JSON round trip unshares defaults, so YAML shows no anchors."""
    shown = {k: v for k, v in without_nulls(spec).items() if k != "description"}
    return yaml.safe_dump(json.loads(json.dumps(shown)), sort_keys=False, allow_unicode=True)


def rst_to_html(text: str) -> str:
    """HTML of a caption written in reStructuredText, as Snakemake's report renders it
    (docutils); raw HTML and file inclusion are disabled and markup errors are not shown, so
    the templates insert it unescaped."""
    settings = {"report_level": 5, "halt_level": 5, "raw_enabled": False,
                "file_insertion_enabled": False, "_disable_config": True,
                "math_output": "MathML"}
    return publish_parts(text, writer="html5", settings_overrides=settings)["fragment"]


def figure_caption(template: str, study: str, figure: str, spec: Mapping[str, Any],
                   caption: str = "") -> str:
    """A figure's caption in HTML: ``template`` (the Jinja template ``workflow/report/
    figure.rst``) rendered as the figure rule's caption is in Snakemake's report, with
    ``snakemake.params.spec`` (the figure's spec), ``snakemake.params.caption`` (the text of
    its own caption file, or "") and ``snakemake.wildcards.study`` / ``.figure``."""
    job = SimpleNamespace(params=SimpleNamespace(spec=spec, caption=caption),
                          wildcards=SimpleNamespace(study=study, figure=figure))
    return rst_to_html(jinja2.Template(template).render(snakemake=job))


def _embedded_png(path: str | os.PathLike) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode()


def _link(target: str | os.PathLike, page_dir: str | os.PathLike) -> str:
    """``target`` as a relative URL from the page's directory (POSIX separators)."""
    return Path(os.path.relpath(target, page_dir)).as_posix()


_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("ness_core", "templates"), autoescape=True,
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    keep_trailing_newline=True)
_TEMPLATES.filters["num"] = lambda x: _num(x) if isinstance(x, float) else str(x)


def _render(template: str, **context: Any) -> str:
    return _TEMPLATES.get_template(template).render(**context)


def study_section(name: str, spec: Mapping[str, Any], ds: xr.Dataset,
                  figures: Sequence[Mapping[str, Any]], dataset_link: str,
                  checks: Sequence[Mapping[str, Any]] | None = None) -> str:
    """HTML of one study (template ``section.html.j2``): description, provenance line,
    download links, config, key numbers, checks, figures with captions, dataset attrs.

    ``figures``: ``{name, png, pdf, caption}`` each (``png`` a file to embed, ``pdf`` a link
    or None, ``caption`` HTML); ``dataset_link``: the dataset's URL from the page.
    """
    checks = consistency_checks(ds) if checks is None else checks
    description = str(spec.get("description") or "").strip()
    shown = [{"name": f["name"], "image": _embedded_png(f["png"]), "pdf": f.get("pdf"),
              "caption": f.get("caption") or ""} for f in figures]
    return _render(
        "section.html.j2", name=name, verdict=verdict(checks),
        description=[p for p in description.split("\n\n") if p.strip()],
        model=ds.attrs.get("model", "?"),
        dims=", ".join(f"{d} = {n}" for d, n in ds.sizes.items()),
        made=provenance_summary(ds), repository=user_repository(ds.attrs),
        dataset_link=dataset_link, config=config_text(spec), key_numbers=key_numbers(ds),
        checks=checks, figures=shown, attributes=dict(ds.attrs))


def write_section(name: str, spec: Mapping[str, Any], dataset_path: str | os.PathLike,
                  figures: Sequence[str | os.PathLike], html_path: str | os.PathLike,
                  entry_path: str | os.PathLike, *, page_dir: str | os.PathLike,
                  captions: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Write one study's report section (HTML fragment) and its index entry (JSON).

    ``figures`` are the study's figure PNGs (embedded; a PDF beside one is linked);
    ``page_dir`` is the directory of the page the section goes into, from which the links to
    the dataset and the PDFs are relative; ``captions`` maps figure names (the PNGs' stems)
    to caption HTML (:func:`figure_caption`). The entry holds what :func:`assemble_report`
    lists per study: name, model, number of points, verdict, config hash, code version and
    when the dataset was computed.
    """
    ds = read_netcdf(dataset_path)
    checks = consistency_checks(ds)
    axes = json.loads(ds.attrs.get("swept_axes", "[]"))
    entry = {"study": name, "model": ds.attrs.get("model", "?"),
             "points": int(np.prod([ds.sizes[a] for a in axes])) if axes else 1,
             "verdict": verdict(checks), **provenance_summary(ds)}
    shown = []
    for png in map(Path, figures):
        pdf = png.with_suffix(".pdf")
        shown.append({"name": png.stem, "png": png, "caption": (captions or {}).get(png.stem),
                      "pdf": _link(pdf, page_dir) if pdf.is_file() else None})
    write_report(study_section(name, spec, ds, shown, _link(dataset_path, page_dir), checks),
                 html_path)
    write_report(json.dumps(entry, indent=1), entry_path)
    return entry


def load_comparison(json_path: str | os.PathLike, png_path: str | os.PathLike,
                    page_dir: str | os.PathLike) -> dict[str, Any]:
    """One comparison for the page: its JSON (``name``, ``x``, ``y``, ``curves`` with per
    curve ``study``, ``label``, ``reference_label``, ``n_compared`` and
    ``max_relative_deviation``, null without a reference), its PNG embedded, and links to
    the JSON and to the PDF beside the PNG (None if there is none)."""
    data = json.loads(Path(json_path).read_text(encoding="utf-8"))
    pdf = Path(png_path).with_suffix(".pdf")
    return {**data, "image": _embedded_png(png_path), "json_link": _link(json_path, page_dir),
            "pdf_link": _link(pdf, page_dir) if pdf.is_file() else None}


def assemble_report(entries: Sequence[Mapping[str, Any]], sections: Sequence[str],
                    comparisons: Sequence[Mapping[str, Any]] = ()) -> str:
    """The whole page (template ``page.html.j2``): contents sidebar, a table of the studies'
    index entries, the comparisons (:func:`load_comparison`) with their deviation tables,
    then the studies' HTML sections (in config order)."""
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    return _render("page.html.j2", entries=entries, sections=sections,
                   comparisons=comparisons, created=created)


def write_report(text: str, path: str | os.PathLike) -> None:
    """Write the text (UTF-8) to ``path`` atomically (:func:`.chunk_files.atomic_write`)."""
    atomic_write(path, text)
