"""`--configfile FILE` runs FILE's studies and nothing else, also where the working directory
holds a config/config.yaml (as the repository root does); without it that default is used,
and `ness plan FILE` lists the same studies as Snakemake."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


PAPER_CONFIG = """studies:
  mine:
    model: climate
    sweep: {drive: %s}
    figures:
      - {kind: line, x: drive, y: current, caption: captions/mine.rst}
comparisons:
  mine_vs_closed_form:
    x: drive
    y: current
    curves:
      - study: mine
        reference: {file: data/closed_form.csv, x: drive, y: current, label: closed form}
"""
MODULE = """configfile: "config.yaml"

module ness:
    snakefile: %s
    config: config
    prefix: "ness"

use rule * from ness as ness_*
"""


def _climate_cycle_current(drive: float) -> float:
    """Hill's cycle current of the three-state climate cycle at the model's defaults
    (ν = 1, Δ = 1, T = 1, E = (0, −0.5, −1)): J = (k01 k12 k20 − k10 k21 k02) / Σ trees,
    k_ij = ν exp(−(Δ + (E_j − E_i)/2 − s_ij·drive/2)/T), s = +1 around W → C → I → W."""
    energy = (0.0, -0.5, -1.0)

    def k(i: int, j: int) -> float:
        sign = 1.0 if j == (i + 1) % 3 else -1.0
        return math.exp(-(1.0 + (energy[j] - energy[i]) / 2 - sign * drive / 2))

    trees = (k(1, 2) * k(2, 0) + k(2, 1) * k(1, 0) + k(1, 0) * k(2, 0)
             + k(2, 0) * k(0, 1) + k(0, 2) * k(2, 1) + k(0, 1) * k(2, 1)
             + k(0, 1) * k(1, 2) + k(1, 0) * k(0, 2) + k(0, 2) * k(1, 2))
    return (k(0, 1) * k(1, 2) * k(2, 0) - k(1, 0) * k(2, 1) * k(0, 2)) / trees


def _paper_repository(path: Path, snakefile: str) -> None:
    """A user's repository: its own config, caption, reference table and Snakefile using
    ness-sweep."""
    (path / "captions").mkdir(parents=True)
    (path / "captions" / "mine.rst").write_text("Current of my own climate study.\n")
    (path / "data").mkdir()
    (path / "data" / "closed_form.csv").write_text("drive,current\n" + "".join(
        f"{drive},{_climate_cycle_current(drive)!r}\n" for drive in (1.0, 2.0)))
    (path / "config.yaml").write_text(PAPER_CONFIG % "[0.0, 1.0]")
    (path / "Snakefile").write_text(MODULE % snakefile)


def _snakemake(cwd: Path, *args: str, env: dict | None = None) -> str:
    run = subprocess.run([str(SNAKEMAKE), *args], cwd=cwd, capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout + run.stderr


def test_a_paper_repository_runs_ness_sweep_as_a_module_under_its_prefix(tmp_path):
    """The module's outputs land under `prefix:`, the user's caption is found in the user's
    repository, a rerun with one more point computes only the new chunk, `--report` works,
    and nothing is written in the ness-sweep checkout."""
    _paper_repository(tmp_path, f'"{ROOT / "Snakefile"}"')
    before = sorted(ROOT.glob("results/**/*"))
    _snakemake(tmp_path, "--cores", "2")
    chunks = tmp_path / "ness" / "results" / "mine" / "chunks"
    assert (tmp_path / "ness" / "results" / "mine" / "dataset.nc").is_file()
    assert (tmp_path / "ness" / "results" / "mine" / "figures"
            / "line_current_vs_drive.pdf").is_file()
    assert not (tmp_path / "results").exists()
    first = {p.name: p.stat().st_mtime_ns for p in chunks.glob("*.nc")}
    assert len(first) == 1
    # the user's reference table, read from the user's repository, is reproduced
    comparison = json.loads((tmp_path / "ness" / "results" / "comparisons"
                             / "mine_vs_closed_form.json").read_text())
    (curve,) = comparison["curves"]
    assert (curve["n_compared"], curve["n_not_compared"]) == (1, 1)  # drive 2 not yet swept
    assert curve["max_relative_deviation"] < 1e-9

    (tmp_path / "config.yaml").write_text(PAPER_CONFIG % "[0.0, 1.0, 2.0]")
    log = _snakemake(tmp_path, "--cores", "2")
    assert log.count("rule ness_simulate:") == 1  # the new point's chunk alone
    after = {p.name: p.stat().st_mtime_ns for p in chunks.glob("*.nc")}
    assert len(after) == 2 and all(after[name] == first[name] for name in first)
    comparison = json.loads((tmp_path / "ness" / "results" / "comparisons"
                             / "mine_vs_closed_form.json").read_text())
    assert comparison["curves"][0]["n_compared"] == 2
    assert comparison["curves"][0]["max_relative_deviation"] < 1e-9

    _snakemake(tmp_path, "--report", "report.html")
    report = (tmp_path / "report.html").read_text()
    assert "Current of my own climate study." in report and "mine_vs_closed_form" in report
    assert sorted(ROOT.glob("results/**/*")) == before


def test_a_module_given_as_github_is_read_from_snakemakes_source_cache(tmp_path):
    """`snakefile: github("owner/ness-sweep", ...)`: the workflow's files come from
    Snakemake's cached clone, not from a directory on disk. Git's `insteadOf` points
    github.com at a bare clone of this checkout's HEAD, so no network is used."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode != 0:
        pytest.skip("the checkout is not a git repository")
    hosted = tmp_path / "hosted"
    subprocess.run(["git", "clone", "-q", "--bare", str(ROOT),
                    str(hosted / "nesslab" / "ness-sweep")], check=True)
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text(f'[url "file://{hosted}/"]\n\tinsteadOf = https://github.com/\n')
    env = dict(os.environ, GIT_CONFIG_GLOBAL=str(gitconfig),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    paper = tmp_path / "paper"
    _paper_repository(paper, 'github("nesslab/ness-sweep", path="Snakefile", '
                             f'commit="{head.stdout.strip()}")')
    _snakemake(paper, "--cores", "2", env=env)
    assert (paper / "ness" / "results" / "mine" / "figures"
            / "line_current_vs_drive.png").is_file()
