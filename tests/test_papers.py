"""config/papers/: every paper config is valid, its reference tables are what the published
formulas give (regenerated here), and one of them runs end to end within its tolerance."""

from __future__ import annotations

import json
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ness_core import cli

ROOT = Path(__file__).resolve().parents[1]
PAPERS = ROOT / "config" / "papers"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


@pytest.mark.parametrize("config", sorted(PAPERS.glob("*.yaml")), ids=lambda p: p.stem)
def test_paper_config_plans_cleanly(config, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)  # reference files are relative to the working directory
    assert cli.main(["plan", str(config), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["studies"]


def test_reference_tables_are_regenerated_exactly(tmp_path, monkeypatch):
    script = tmp_path / "make_references.py"
    shutil.copy(PAPERS / "make_references.py", script)
    runpy.run_path(str(script), run_name="__main__")
    written = sorted(p.name for p in (tmp_path / "data").glob("*.csv"))
    assert written == sorted(p.name for p in (PAPERS / "data").glob("*.csv"))
    for name in written:
        assert (tmp_path / "data" / name).read_text() == (PAPERS / "data" / name).read_text()


def test_resonance_fluorescence_reproduces_its_closed_forms(tmp_path):
    """The Fano factor and emission flux of the pipeline against the published formulas:
    the deviation is the solver's, far below any plotting resolution."""
    work = tmp_path / "paper"
    (work / "config" / "papers").mkdir(parents=True)
    shutil.copytree(PAPERS / "data", work / "config" / "papers" / "data")
    config = work / "config" / "papers" / "resonance_fluorescence.yaml"
    shutil.copy(PAPERS / "resonance_fluorescence.yaml", config)
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "--cores", "2",
                          "--configfile", str(config)], cwd=work, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    for name in ("mandel_fano_factor", "mollow_flux"):
        summary = json.loads((work / "results" / "comparisons" / f"{name}.json").read_text())
        (curve,) = summary["curves"]
        assert curve["n_compared"] == 40
        assert curve["max_relative_deviation"] < 1e-8
