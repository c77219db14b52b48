"""`--configfile FILE` runs FILE's studies and nothing else, also where the working directory
holds a config/config.yaml (as the repository root does); without it that default is used,
and `ness plan FILE` lists the same studies as Snakemake."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ness_core import cli

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
DEFAULT = ("studies:\n  default_a: {model: climate, sweep: {drive: [0.5, 1.0]}}\n"
           "  climate_drive: {model: climate, sweep: {drive: [0.5]}}\n")
OWN = "studies:\n  climate_drive: {model: climate, sweep: {nu: [1.0, 2.0]}}\n"


def _planned_studies(workdir: Path, *args: str) -> set[str]:
    """Studies of a dry run's jobs (the gather job names its study in its output)."""
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-n", "--cores", "1",
                          "-d", str(workdir), *args], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return {line.split("/")[1] for line in (run.stdout + run.stderr).splitlines()
            if line.strip().startswith("output: results/") and "dataset.nc" in line}


def test_configfile_alone_makes_the_run_and_matches_ness_plan(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text(DEFAULT)
    own = tmp_path / "own.yaml"
    own.write_text(OWN)
    assert _planned_studies(tmp_path, "--configfile", str(own)) == {"climate_drive"}
    assert cli.main(["plan", str(own), "-d", str(tmp_path), "--json"]) == 0
    plans = json.loads(capsys.readouterr().out)["studies"]
    # the study is FILE's alone (its own axis, two points), not merged into the default's
    assert [(p["study"], p["points"]) for p in plans] == [("climate_drive", 2)]
    assert _planned_studies(tmp_path) == {"default_a", "climate_drive"}


def test_a_dry_run_writes_nothing_and_shows_the_manifest_jobs(tmp_path):
    """Planning is pure: chunk manifests are the outputs of rule manifest, so `-n` leaves
    the working directory as it was (Snakemake's own .snakemake/ aside)."""
    own = tmp_path / "own.yaml"
    own.write_text(OWN)
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-n", "--cores", "1",
                          "-d", str(tmp_path), "--configfile", str(own)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "rule manifests:" in run.stdout + run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".snakemake", "own.yaml"]


def test_a_first_run_as_a_module_with_prefix_writes_under_the_prefix_only(tmp_path):
    """A paper repository's Snakefile uses ness-sweep as a module with its own config and
    `prefix:`: the study lands under the prefix and nothing is written in the checkout."""
    (tmp_path / "config.yaml").write_text(
        "studies:\n  mine: {model: climate, sweep: {drive: [0.0, 1.0]}}\n")
    (tmp_path / "Snakefile").write_text(
        'configfile: "config.yaml"\n\n'
        f'module ness:\n    snakefile: "{ROOT / "Snakefile"}"\n    config: config\n'
        '    prefix: "ness"\n\nuse rule * from ness as ness_*\n')
    before = sorted(ROOT.glob("results/**/*"))
    run = subprocess.run([str(SNAKEMAKE), "--cores", "2"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    assert (tmp_path / "ness" / "results" / "mine" / "dataset.nc").is_file()
    assert not (tmp_path / "results").exists()
    assert sorted(ROOT.glob("results/**/*")) == before
