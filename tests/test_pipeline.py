"""The workflow end to end on a tiny config: data, figures, reports, incremental re-runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

import ness_core
from ness_core import configs, dataset, sweep

pytestmark = pytest.mark.slow

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PDF_MAGIC = b"%PDF-"
REPO = Path(__file__).resolve().parents[1]
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory, snakemake_runner):
    """A complete run of tests/data/tiny.yaml in a fresh directory."""
    workdir = tmp_path_factory.mktemp("pipeline")
    configfile = workdir / "config.yaml"
    shutil.copy(REPO / "tests" / "data" / "tiny.yaml", configfile)
    result = snakemake_runner(workdir, configfile, *PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, configfile


def test_dataset_has_labelled_grid_and_provenance(finished_run):
    workdir, _ = finished_run
    ds = dataset.read_netcdf(workdir / "results/climate_tiny/dataset.nc")
    assert list(ds["current"].dims) == ["drive", "temperature"]
    np.testing.assert_array_equal(ds["drive"].values, np.linspace(0.0, 2.0, 5))
    np.testing.assert_array_equal(ds["temperature"].values, [0.5, 1.0])
    model = ness_core.get_model("climate")
    assert dataset.declared_unit(ds["drive"]) == model.parameter("drive").unit
    for obs in model.all_observables():
        assert ds[obs.name].attrs["long_name"] == obs.long_name
        assert dataset.declared_unit(ds[obs.name]) == obs.unit
    assert ds.attrs["model"] == "climate"
    assert json.loads(ds.attrs["fixed_parameters"]) == {"barrier": 1.0}
    assert json.loads(ds.attrs["resolved_parameters"])["nu"] == model.parameter("nu").default
    versions = json.loads(ds.attrs["package_versions"])
    assert {"numpy", "xarray", "snakemake", "scipy"} <= versions.keys()
    assert ds.attrs["config_hash"] and ds.attrs["git_commit"] and ds.attrs["created"]


def test_dataset_values_equal_direct_evaluation(finished_run):
    workdir, _ = finished_run
    ds = dataset.read_netcdf(workdir / "results/climate_tiny/dataset.nc")
    direct = ness_core.evaluate("climate", drive=1.5, temperature=0.5, barrier=1.0)
    point = ds.sel(drive=1.5, temperature=0.5)
    for name in ("current", "entropy_production", "gap", "p_warm", "residual"):
        assert float(point[name]) == pytest.approx(direct[name], rel=1e-12, abs=1e-15)
    assert str(point["status"].values) == direct["status"]


def test_asep_profile_has_site_dimension_and_matches_evaluate(finished_run):
    workdir, _ = finished_run
    ds = dataset.read_netcdf(workdir / "results/asep_tiny/dataset.nc")
    assert ds["density_profile"].dims == ("rho_left", "rho_right", "site")
    np.testing.assert_array_equal(ds["site"].values, [1, 2, 3, 4])
    direct = ness_core.evaluate("asep", L=4, rho_left=0.8, rho_right=0.2, method="exact")
    point = ds.sel(rho_left=0.8, rho_right=0.2)
    np.testing.assert_allclose(point["density_profile"].values, direct["density_profile"],
                               rtol=1e-12)
    assert float(point["current"]) == pytest.approx(direct["current"], rel=1e-12)
    assert str(point["phase"].values) == direct["phase"]


def test_figures_are_valid_png_and_pdf(finished_run):
    workdir, configfile = finished_run
    config = yaml.safe_load(configfile.read_text())
    for name, spec in config["studies"].items():
        for fig in spec["figures"]:
            stem = workdir / "results" / name / "figures" / configs.figure_name(fig)
            png, pdf = stem.with_suffix(".png").read_bytes(), stem.with_suffix(".pdf").read_bytes()
            assert png.startswith(PNG_MAGIC) and len(png) > 5000
            assert pdf.startswith(PDF_MAGIC) and len(pdf) > 2000


def test_summary_report_shows_every_study_and_passing_checks(finished_run):
    workdir, _ = finished_run
    text = (workdir / "results/report/index.html").read_text()
    assert "climate_tiny" in text and "asep_tiny" in text
    assert text.count("data:image/png;base64,") == 3
    # detailed balance checked at climate's drive = 0 points (2 temperatures); TASEP has none
    assert text.count("equilibrium points") == 1 and "at the 2 equilibrium points" in text
    assert "FAIL" not in text


def test_snakemake_report_is_written(finished_run, tmp_path, snakemake_runner):
    workdir, configfile = finished_run
    result = snakemake_runner(workdir, configfile, "--report", str(tmp_path / "report.html"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "report.html").stat().st_size > 10_000


def computed_points(workdir, study):
    """Point ids of every chunk result of ``study``, from the chunk manifests."""
    chunks = workdir / "results" / study / "chunks"
    return {c.stem: [p["id"] for p in sweep.read_manifest(c.with_suffix(".json"))["points"]]
            for c in chunks.glob("*.nc")}


def test_rerun_has_nothing_to_do_and_new_value_computes_only_new_points(
        finished_run, snakemake_runner, tmp_path):
    # a copy (times preserved), so the shared run stays as the other tests expect it
    workdir = tmp_path / "copy"
    shutil.copytree(finished_run[0], workdir, symlinks=True)
    configfile = workdir / "config.yaml"
    dry = snakemake_runner(workdir, configfile, "-n")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr
    before = computed_points(workdir, "climate_tiny")
    stamps = {c: (workdir / f"results/climate_tiny/chunks/{c}.nc").stat().st_mtime_ns
              for c in before}

    config = yaml.safe_load(configfile.read_text())
    config["studies"]["climate_tiny"]["sweep"]["temperature"].append(2.0)
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    other = workdir / "results/asep_tiny/dataset.nc"
    other_stamp = other.stat().st_mtime_ns
    result = snakemake_runner(workdir, configfile, *PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]

    after = computed_points(workdir, "climate_tiny")
    new = {c: ids for c, ids in after.items() if c not in before}
    new_ids = [i for ids in new.values() for i in ids]
    study = configs.parse_config(config)["climate_tiny"]
    expected = {p.id for p in study.points() if p.params["temperature"] == 2.0}
    assert sorted(new_ids) == sorted(expected) and len(new_ids) == 5
    assert all((workdir / f"results/climate_tiny/chunks/{c}.nc").stat().st_mtime_ns == t
               for c, t in stamps.items())
    assert other.stat().st_mtime_ns == other_stamp  # the other study was left alone
    ds = dataset.read_netcdf(workdir / "results/climate_tiny/dataset.nc")
    assert ds.sizes["temperature"] == 3 and (ds["status"].values == "ok").all()


def test_power_law_fit_recovers_exponent_of_exact_power_law():
    from ness_core.plots import fit_power_law

    x = np.arange(4, 15, dtype=float)
    z, err, c = fit_power_law(x, 3.0 * x**-1.5)
    assert z == pytest.approx(-1.5, abs=1e-12) and err < 1e-10 and c == pytest.approx(3.0)
    with pytest.raises(ValueError, match="three"):
        fit_power_law(x[:2], x[:2])


def test_loglog_fit_window_selects_the_power_law_regime():
    """y = x for x <= 4, y = 16/x beyond: the fit over x <= 4 must give exactly z = 1."""
    import xarray as xr

    from ness_core.plots import loglog_figure

    x = np.arange(1.0, 11.0)
    y = np.where(x <= 4, x, 16.0 / x)
    ds = xr.Dataset({"gap": ("L", y)}, coords={"L": x},
                    attrs={"study": "s", "swept_axes": json.dumps(["L"])})
    legend = loglog_figure(ds, {"x": "L", "y": "gap", "fit_max": 4.0}).legends[0]
    assert "z = 1.000 ± 0.000" in " ".join(t.get_text() for t in legend.get_texts())
    legend = loglog_figure(ds, {"x": "L", "y": "gap", "fit_min": 4.0}).legends[0]
    assert "z = -1.000 ± 0.000" in " ".join(t.get_text() for t in legend.get_texts())


def test_heatmap_overlay_draws_the_models_reference_lines(finished_run, monkeypatch):
    from ness_core import plots

    workdir, _ = finished_run
    ds = dataset.read_netcdf(workdir / "results/asep_tiny/dataset.nc")
    boundary = ([0.5, 0.5], [0.0, 0.5], "LD | MC")
    monkeypatch.setattr(ness_core.get_model("asep"), "reference_lines",
                        lambda x, y: [boundary] if (x, y) == ("rho_left", "rho_right") else [])
    fig = plots.heatmap_figure(ds, {"x": "rho_left", "y": "rho_right", "value": "current",
                                    "overlay": "phase_boundaries"})
    (line,) = fig.axes[0].get_lines()
    assert line.get_label() == "LD | MC"
    np.testing.assert_array_equal(line.get_xdata(), [0.5, 0.5])


FIGURE_OPTIONS_CONFIG = {"studies": {
    "wire_modes": {"model": "wire", "sweep": {"drive": [0.4, 0.9]},
                   "fixed": {"N": 8, "temperature": 0.5, "coupling": 2.0},
                   "figures": [{"kind": "spectrum", "name": "chimera", "x": "mode_energy",
                                "y": ["occupation_right_movers", "occupation_left_movers"],
                                "reference": ["fermi_left", "fermi_right"], "logy": True,
                                "caption": "wire_chimera.rst"}]},
    "asep_rows": {"model": "asep", "sweep": {"rho_left": [0.5, 1.0]},
                  "fixed": {"L": 4, "rho_right": 0.0, "drive": 0.0, "method": "exact",
                            "fluctuations": True},
                  "figures": [{"kind": "line", "x": "site_j", "y": ["density_correlation"],
                               "select": {"site_i": 2}, "offdiagonal": True,
                               "hue": "rho_left", "caption": "asep_correlation_profile.rst"}]},
}}


def test_figure_options_and_own_captions_through_the_workflow(tmp_path, snakemake_runner):
    """A spectrum figure on a log axis and a row cut of a two-point function, drawn by the
    workflow, and each figure's own caption in Snakemake's report."""
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(FIGURE_OPTIONS_CONFIG, sort_keys=False))
    result = snakemake_runner(tmp_path, configfile, *PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    for study, spec in FIGURE_OPTIONS_CONFIG["studies"].items():
        for fig in spec["figures"]:
            stem = tmp_path / "results" / study / "figures" / configs.figure_name(fig)
            assert stem.with_suffix(".png").read_bytes().startswith(PNG_MAGIC)
            assert stem.with_suffix(".pdf").read_bytes().startswith(PDF_MAGIC)
    ds = dataset.read_netcdf(tmp_path / "results/wire_modes/dataset.nc")
    assert ds["occupation_right_movers"].dims == ("drive", "mode")
    assert dataset.declared_unit(ds["mode_energy"]) == "energy"
    report = tmp_path / "report.html"
    result = snakemake_runner(tmp_path, configfile, "--report", str(report))
    assert result.returncode == 0, result.stderr[-3000:]
    text = report.read_text()
    for caption in ("wire_chimera.rst", "asep_correlation_profile.rst"):
        first_words = " ".join((REPO / "workflow/report" / caption).read_text().split()[:4])
        assert first_words in text, caption
