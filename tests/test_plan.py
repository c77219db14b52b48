"""`ness plan`: sizes and costs of a config before running it, and what already exists."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ness_core import sweep
from ness_core.models import get_model

REPO = Path(__file__).resolve().parents[1]
NESS = Path(sys.executable).with_name("ness")
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))

CONFIG = {"studies": {
    "climate_grid": {"model": "climate", "chunk_size": 4,
                     "sweep": {"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                               "temperature": [0.5, 1.0]}},
    "asep_lengths": {"model": "asep", "sweep": {"L": [4, 6, 8]},
                     "fixed": {"method": "exact", "alpha": 0.5, "beta": 0.5}},
}}


def ness_plan(configfile: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    """``ness plan CONFIG -d WORKDIR ARGS``."""
    return subprocess.run([str(NESS), "plan", str(configfile), "-d", str(workdir), *args],
                          capture_output=True, text=True, timeout=120)


def plan_json(configfile: Path, workdir: Path) -> dict[str, dict]:
    result = ness_plan(configfile, workdir, "--json")
    assert result.returncode == 0, result.stderr
    return {s["study"]: s for s in json.loads(result.stdout)["studies"]}


@pytest.fixture
def configfile(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    return path


def test_plan_counts_points_jobs_and_cost_and_writes_nothing(configfile, tmp_path):
    plans = plan_json(configfile, tmp_path)
    climate = plans["climate_grid"]
    assert climate["points"] == 10 and climate["chunk_size"] == 4
    assert climate["jobs"] == math.ceil(10 / 4) and climate["max_chunk_points"] == 4
    asep = plans["asep_lengths"]
    model = get_model("asep")
    expected = sum(model.cost_estimate(model.resolve({**CONFIG["studies"]["asep_lengths"]
                                                      ["fixed"], "L": L})) for L in (4, 6, 8))
    assert asep["cpu_hours"] == pytest.approx(expected / 3600, rel=1e-12)
    assert asep["cpu_hours_todo"] == asep["cpu_hours"]
    for plan in plans.values():
        assert plan["finished_jobs"] == plan["finished_points"] == 0
        assert plan["peak_mem_mb"] is None and plan["mem_mb"] == sweep.JOB_MEM_MB
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # no manifests


def test_plan_text_has_one_row_per_study(configfile, tmp_path):
    result = ness_plan(configfile, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["study", "model", "points", "jobs"]
    assert [line.split()[0] for line in lines[1:]] == ["climate_grid", "asep_lengths"]


@pytest.mark.slow
def test_plan_agrees_with_the_workflow_before_and_after_a_run(configfile, tmp_path,
                                                              snakemake_runner):
    before = plan_json(configfile, tmp_path)
    result = snakemake_runner(tmp_path, configfile, *PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    after = plan_json(configfile, tmp_path)
    for name, plan in after.items():
        manifests = list((tmp_path / "results" / name / "chunks").glob("*.json"))
        assert plan["jobs"] == before[name]["jobs"] == len(manifests)
        assert plan["finished_jobs"] == plan["jobs"]
        assert plan["finished_points"] == plan["points"] and plan["cpu_hours_todo"] == 0
        assert 50 < plan["peak_mem_mb"] < sweep.JOB_MEM_MB

    config = yaml.safe_load(configfile.read_text())
    config["studies"]["climate_grid"]["sweep"]["temperature"].append(2.0)
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    extended = plan_json(configfile, tmp_path)["climate_grid"]
    assert extended["points"] == 15 and extended["finished_points"] == 10
    assert extended["jobs"] == after["climate_grid"]["jobs"] + math.ceil(5 / 4)
    assert extended["cpu_hours_todo"] == pytest.approx(extended["cpu_hours"] / 3)


BAD = [
    pytest.param({"studies": {"bad": {"model": "climate", "sweep": {"drive": [0.0]},
                                      "fixed": {"nu": 0.0}}}}, id="model-range"),
    pytest.param({"studies": {"bad": {"model": "climate", "sweep": {"drive": [0.0]},
                                      "chunk_size": 0}}}, id="schema"),
]


@pytest.mark.slow
@pytest.mark.parametrize("config", BAD)
def test_plan_reports_a_bad_config_exactly_as_the_workflow(config, tmp_path, snakemake_runner):
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    planned = ness_plan(configfile, tmp_path)
    assert planned.returncode == 2 and planned.stdout == ""
    assert len(planned.stderr.splitlines()) == 1 and "Traceback" not in planned.stderr
    workflow = snakemake_runner(tmp_path, configfile, "-n")
    lines = [line for line in (workflow.stdout + workflow.stderr).splitlines()
             if line.startswith("config error:")]
    assert workflow.returncode != 0 and lines == [planned.stderr.strip()]
    assert "study 'bad'" in lines[0]


def test_plan_of_a_missing_file_is_one_line(tmp_path):
    result = ness_plan(tmp_path / "nope.yaml", tmp_path)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "nope.yaml" in result.stderr



def test_grid_points_equal_resolve_and_point_id_of_each_point():
    """The planner's fast grid expansion against the model's own resolve and point_id."""
    study = sweep.parse_study("mixed", {
        "model": "asep", "sweep": {"method": ["formula", "exact"], "L": [4, 5],
                                   "rho_left": {"start": 0.1, "stop": 0.9, "num": 3}},
        "fixed": {"rho_right": 0.25}})
    model = get_model("asep")
    points = study.points()
    assert len(points) == 12
    for point in points:
        swept = dict(zip(study.axes, point.coords, strict=True))
        resolved = model.resolve({"rho_right": 0.25, **swept})
        assert point.params == resolved and list(point.params) == list(resolved)
        assert point.id == sweep.point_id("asep", resolved)
