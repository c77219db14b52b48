"""The standalone report: consistency checks on hand-made datasets with known verdicts, and
per-study sections that an edit of one study rebuilds alone (real snakemake runs)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from ness_core import dataset, report
from ness_core.report import assemble_report, consistency_checks, verdict

REPO = Path(__file__).resolve().parents[1]
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))


def climate_dataset(sigma, status=("ok", "ok", "ok")):
    """A climate study swept over drive = 0, 1, 2 (drive = 0 is its equilibrium point)."""
    return xr.Dataset(
        {"entropy_production": ("drive", np.array(sigma, float)),
         "residual": ("drive", np.full(3, 1e-16)),
         "status": ("drive", np.array(status, dtype=object))},
        coords={"drive": [0.0, 1.0, 2.0]},
        attrs={"model": "climate", "swept_axes": json.dumps(["drive"]),
               "resolved_parameters": json.dumps({"temperature": 1.0, "barrier": 1.0})})



def test_clean_study_passes_and_checks_its_equilibrium_point():
    checks = consistency_checks(climate_dataset([0.0, 0.5, 3.0]))
    assert any("1 equilibrium points" in c["check"] and c["passed"] for c in checks)
    assert verdict(checks) == "pass"


def test_entropy_production_at_equilibrium_fails():
    checks = consistency_checks(climate_dataset([1e-6, 0.5, 3.0]))
    assert any("equilibrium" in c["check"] and c["passed"] is False for c in checks)
    assert verdict(checks) == "fail"


def test_negative_entropy_production_fails_the_second_law():
    checks = consistency_checks(climate_dataset([0.0, -1e-3, 3.0]))
    assert checks[0]["check"].startswith("σ ≥") and checks[0]["passed"] is False


def test_failed_points_are_a_warning_with_their_reason():
    checks = consistency_checks(climate_dataset([0.0, np.nan, 3.0],
                                                ("ok", "no upper branch", "ok")))
    status = checks[-1]
    assert status["passed"] is None and "no upper branch" in status["value"]
    assert verdict(checks) == "warn"


def test_union_grid_holes_of_a_refined_study_are_no_failed_points():
    checks = consistency_checks(climate_dataset([0.0, np.nan, 3.0], ("ok", "", "ok")))
    assert checks[-1] == {"check": "points with status ≠ ok", "value": "0 of 2",
                          "passed": True}


def test_driven_asep_at_zero_field_is_not_an_equilibrium_point():
    """ρ_L ≠ ρ_R: zero field still leaves a density-driven current, so no σ = 0 check."""
    ds = xr.Dataset(
        {"entropy_production": ("drive", [0.1, 0.3]), "residual": ("drive", [0.0, 0.0]),
         "status": ("drive", np.array(["ok", "ok"], dtype=object))},
        coords={"drive": [0.0, 1.0]},
        attrs={"model": "asep", "swept_axes": json.dumps(["drive"]),
               "resolved_parameters": json.dumps({"L": 4, "rho_left": 0.8, "rho_right": 0.2})})
    checks = consistency_checks(ds)
    assert not any("equilibrium" in c["check"] for c in checks)
    assert verdict(checks) == "pass"


def test_assembled_page_lists_every_study_with_its_provenance_in_config_order():
    entries = [{"study": name, "model": "climate", "points": 3, "verdict": "pass",
                "config_hash": f"hash-{name}", "code_version": f"code-{name}",
                "computed": f"time-{name}"} for name in ("b_study", "a_study")]
    sections = [f'<section id="{e["study"]}">body of {e["study"]}</section>' for e in entries]
    page = assemble_report(entries, sections)
    rows = re.findall(r"<tr><td><a href=\"#study-(\w+)\">.*?</tr>", page)
    assert rows == ["b_study", "a_study"]
    for e in entries:
        row = re.search(rf'<tr><td><a href="#study-{e["study"]}">.*?</tr>', page).group(0)
        assert all(e[k] in row for k in ("config_hash", "code_version", "computed"))
    assert page.index("body of b_study") < page.index("body of a_study")


PNG_1x1 = bytes.fromhex(  # a valid 1×1 PNG, to embed
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101005f8c0f8d0000000049454e44ae426082")


def written_section(tmp_path, spec, captions=None):
    """The section of a climate study whose files sit as the workflow writes them."""
    results = tmp_path / "results"
    (results / "climate_x" / "figures").mkdir(parents=True)
    (results / "report" / "sections").mkdir(parents=True)
    ds = climate_dataset([0.0, 0.5, 3.0])
    ds.attrs["created"] = "2026-01-01T00:00:00+00:00"
    dataset.write_netcdf(ds, results / "climate_x" / "dataset.nc")
    png = results / "climate_x" / "figures" / "line_current_vs_drive.png"
    png.write_bytes(PNG_1x1)
    png.with_suffix(".pdf").write_bytes(b"%PDF-1.4\n")
    html = results / "report" / "sections" / "climate_x.html"
    report.write_section("climate_x", spec, results / "climate_x" / "dataset.nc", [png],
                         html, html.with_suffix(".json"), page_dir=results / "report",
                         captions=captions)
    return results, html.read_text(encoding="utf-8")


def links(page: str) -> list[str]:
    return re.findall(r'href="([^"#][^"]*)"', page)


def test_section_shows_the_description_and_links_to_the_dataset_and_figure_pdf(tmp_path):
    spec = {"model": "climate", "description": "Cycle W→C→I driven <b>out</b> of balance."
            "\n\nSecond paragraph.", "sweep": {"drive": [0.0, 1.0, 2.0]}, "chunk_size": None,
            "figures": [{"kind": "line", "x": "drive", "y": ["current"], "hue": None}]}
    results, section = written_section(tmp_path, spec)
    paragraphs = re.findall(r'<p class="description">(.*?)</p>', section)
    assert paragraphs == ["Cycle W→C→I driven &lt;b&gt;out&lt;/b&gt; of balance.",
                          "Second paragraph."]  # shown, escaped, before the config
    assert section.index("description") < section.index("<h3>Config</h3>")
    # every relative link resolves, from results/report/ (the page's directory), to a file
    hrefs = links(section)
    assert "../climate_x/dataset.nc" in hrefs
    assert "../climate_x/figures/line_current_vs_drive.pdf" in hrefs
    for href in hrefs:
        assert (results / "report" / href).is_file(), href
    config = yaml.safe_load(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1))
    assert config == {"model": "climate", "sweep": {"drive": [0.0, 1.0, 2.0]},
                      "figures": [{"kind": "line", "x": "drive", "y": ["current"]}]}


def test_figure_caption_renders_the_workflow_template_and_the_own_caption_file(tmp_path):
    template = (REPO / "workflow" / "report" / "figure.rst").read_text()
    own = (REPO / "workflow" / "report" / "wire_chimera.rst").read_text()
    caption = report.figure_caption(template, "climate_x", "line_current_vs_drive",
                                    {"kind": "line"}, own)
    assert '<span class="docutils literal">line</span> figure' in caption
    assert "results/climate_x/dataset.nc" in caption
    assert "two-temperature chimera" in caption
    _, section = written_section(tmp_path, {"model": "climate", "sweep": {}},
                                 {"line_current_vs_drive": caption})
    figcaption = re.search(r"<figcaption>(.*?)</figcaption>", section, re.S).group(1)
    assert "two-temperature chimera" in figcaption and "&lt;span" not in figcaption


def test_caption_markup_is_rendered_but_raw_html_is_not(tmp_path):
    html = report.rst_to_html("``x`` and *y*\n\n.. raw:: html\n\n   <script>alert(1)</script>\n")
    assert "<em>y</em>" in html and "<script" not in html


def test_page_has_a_comparisons_section_with_the_deviation_table(tmp_path):
    comparisons = tmp_path / "results" / "comparisons"
    comparisons.mkdir(parents=True)
    data = {"name": "gap_scaling", "x": "L", "y": "gap", "curves": [
        {"study": "asep_gap", "label": "exact", "reference_label": "KPZ L^-3/2",
         "n_compared": 11, "max_relative_deviation": 0.0123},
        {"study": "asep_other", "label": "mean field", "reference_label": None,
         "n_compared": 0, "max_relative_deviation": None}]}
    (comparisons / "gap_scaling.json").write_text(json.dumps(data))
    (comparisons / "gap_scaling.png").write_bytes(PNG_1x1)
    (comparisons / "gap_scaling.pdf").write_bytes(b"%PDF-1.4\n")
    loaded = report.load_comparison(comparisons / "gap_scaling.json",
                                    comparisons / "gap_scaling.png", tmp_path / "results/report")
    entry = {"study": "asep_gap", "model": "asep", "points": 11, "verdict": "pass",
             "config_hash": "h", "code_version": "c", "computed": "t"}
    page = assemble_report([entry], ['<section id="study-asep_gap"></section>'], [loaded])
    block = re.search(r'<section id="comparisons">(.*?)</section>', page, re.S).group(1)
    rows = re.findall(r"<tr><td>(.*?)</tr>", block)
    cells = [re.sub(r"<[^>]+>", "|", row).split("|") for row in rows]
    cells = [[c for c in row if c] for row in cells]
    assert cells == [["asep_gap", "exact", "KPZ L^-3/2", "11", "0.0123"],
                     ["asep_other", "mean field", "—", "0", "—"]]
    assert "data:image/png;base64," + base64.b64encode(PNG_1x1).decode() in block
    assert set(links(block)) == {"../comparisons/gap_scaling.pdf",
                                 "../comparisons/gap_scaling.json"}
    assert 'href="#comparison-gap_scaling"' in page  # in the contents sidebar
    assert "Comparisons" not in assemble_report([entry], [])  # no section without any


def test_nulls_are_left_out_of_a_shown_config_at_any_depth():
    spec = {"a": None, "b": {"c": None, "d": 0}, "e": [{"f": None, "g": False}], "h": []}
    assert report.without_nulls(spec) == {"b": {"d": 0}, "e": [{"g": False}], "h": []}


def dry_run_jobs(output: str) -> list[tuple[str, str | None]]:
    """(rule, study wildcard or None) of every job a ``snakemake -n`` output lists."""
    jobs: list[tuple[str, str | None]] = []
    for line in output.splitlines():
        rule = re.match(r"^(?:local)?rule (\w+):", line)
        if rule:
            jobs.append((rule.group(1), None))
        study = re.match(r"^\s+wildcards: .*\bstudy=(\w+)", line)
        if study and jobs:
            jobs[-1] = (jobs[-1][0], study.group(1))
    return jobs


def stamps(directory: Path) -> dict[str, int]:
    """Modification time (ns) of every file under ``directory``, by relative path (not the
    chunk digests, whose mtime records when the planner last checked a chunk)."""
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns
            for p in directory.rglob("*") if p.is_file() and p.suffix != ".digest"}


@pytest.mark.slow
def test_editing_one_study_rebuilds_only_that_study_and_its_report_section(
        tmp_path, snakemake_runner):
    configfile = tmp_path / "config.yaml"
    shutil.copy(REPO / "tests" / "data" / "tiny.yaml", configfile)
    first = snakemake_runner(tmp_path, configfile, *PROFILE)
    assert first.returncode == 0, first.stderr[-3000:]
    sections = tmp_path / "results" / "report" / "sections"
    before = {name: json.loads((sections / f"{name}.json").read_text())
              for name in ("climate_tiny", "asep_tiny")}
    asep_files = {**stamps(tmp_path / "results" / "asep_tiny"),
                  **{p: t for p, t in stamps(sections).items() if p.startswith("asep_tiny")}}
    page_before = (tmp_path / "results" / "report" / "index.html").stat().st_mtime_ns

    config = yaml.safe_load(configfile.read_text())
    config["studies"]["climate_tiny"]["fixed"]["barrier"] = 1.5
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    planned = snakemake_runner(tmp_path, configfile, "-n")
    assert planned.returncode == 0, planned.stderr[-3000:]
    jobs = dry_run_jobs(planned.stdout + planned.stderr)
    per_study = {rule for rule, study in jobs if study is not None}
    assert {study for _, study in jobs if study is not None} == {"climate_tiny"}
    assert per_study == {"simulate", "gather", "figure", "report_section"}
    # the new chunks' manifests (of climate_tiny alone: asep_tiny's exist) in one local job
    assert {rule for rule, study in jobs if study is None} == {"manifests", "summary_report",
                                                                "all"}

    second = snakemake_runner(tmp_path, configfile, *PROFILE)
    assert second.returncode == 0, second.stderr[-3000:]
    assert {**stamps(tmp_path / "results" / "asep_tiny"),
            **{p: t for p, t in stamps(sections).items() if p.startswith("asep_tiny")}
            } == asep_files  # the other study's dataset, figures and section are untouched
    after = {name: json.loads((sections / f"{name}.json").read_text()) for name in before}
    assert after["asep_tiny"] == before["asep_tiny"]
    climate = dataset.read_netcdf(tmp_path / "results" / "climate_tiny" / "dataset.nc")
    assert json.loads(climate.attrs["fixed_parameters"]) == {"barrier": 1.5}
    assert after["climate_tiny"]["config_hash"] == climate.attrs["config_hash"]
    assert after["climate_tiny"]["config_hash"] != before["climate_tiny"]["config_hash"]
    assert after["climate_tiny"]["computed"] == climate.attrs["created"]
    assert after["climate_tiny"]["code_version"].startswith(
        f"ness-sweep {metadata.version('ness-sweep')}")
    page = tmp_path / "results" / "report" / "index.html"
    assert page.stat().st_mtime_ns > page_before
    text = page.read_text()
    for entry in after.values():
        assert all(entry[k] in text for k in ("config_hash", "code_version", "computed"))
    assert before["climate_tiny"]["config_hash"] not in text

    # a description rebuilds that study's section and the page alone, and is shown there
    dataset_stamp = (tmp_path / "results" / "climate_tiny" / "dataset.nc").stat().st_mtime_ns
    config["studies"]["climate_tiny"]["description"] = "Three-state cycle, barrier 1.5."
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    planned = snakemake_runner(tmp_path, configfile, "-n")
    assert planned.returncode == 0, planned.stderr[-3000:]
    assert set(dry_run_jobs(planned.stdout + planned.stderr)) == {
        ("report_section", "climate_tiny"), ("summary_report", None), ("all", None)}
    third = snakemake_runner(tmp_path, configfile, *PROFILE)
    assert third.returncode == 0, third.stderr[-3000:]
    assert (tmp_path / "results/climate_tiny/dataset.nc").stat().st_mtime_ns == dataset_stamp
    text = page.read_text()
    assert '<p class="description">Three-state cycle, barrier 1.5.</p>' in text
    for href in re.findall(r'href="([^"#][^"]*)"', text):  # datasets and figure PDFs
        assert (page.parent / href).is_file(), href
    assert '<a href="../climate_tiny/dataset.nc" download>' in text

    # Snakemake's own report as a zip archive (for reports too large for one file)
    archive = tmp_path / "report.zip"
    zipped = snakemake_runner(tmp_path, configfile, "--report", str(archive))
    assert zipped.returncode == 0, zipped.stderr[-3000:]
    with zipfile.ZipFile(archive) as opened:
        names = opened.namelist()
    assert any(n.endswith("report.html") for n in names)
    assert any(n.endswith("/index.html") for n in names)  # the standalone page inside
    assert sum(n.endswith(".png") for n in names) >= 3  # the three study figures
