"""`ness plan`: sizes and costs of a config before running it, and what already exists."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ness_core import configs, sweep
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
    study = configs.parse_study("mixed", {
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


def test_plan_shows_the_estimated_peak_memory(configfile, tmp_path):
    plans = plan_json(configfile, tmp_path)
    model = get_model("asep")
    largest = model.resolve({**CONFIG["studies"]["asep_lengths"]["fixed"], "L": 8})
    assert plans["asep_lengths"]["mem_estimate_mb"] == pytest.approx(
        sweep.JOB_BASE_MB + model.memory_estimate(largest))
    assert plans["climate_grid"]["mem_estimate_mb"] is None  # climate declares none
    header, _, asep_row = ness_plan(configfile, tmp_path).stdout.splitlines()
    assert "est. peak MB" in header
    assert f"{plans['asep_lengths']['mem_estimate_mb']:.0f}" in asep_row.split()


BIG = {"studies": {"asep_big": {"model": "asep", "sweep": {"L": [10, 20]},
                                "fixed": {"method": "exact"}}}}


@pytest.mark.slow
def test_a_point_above_the_memory_limit_is_refused_before_any_job(tmp_path,
                                                                  snakemake_runner):
    """2^20 states need ~1 GB by the estimate; with 600 MB allowed per job the workflow and
    `ness plan` stop with one line naming the point, and nothing is computed."""
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(BIG))
    model = get_model("asep")
    need = sweep.JOB_BASE_MB + model.memory_estimate(model.resolve({"L": 20,
                                                                    "method": "exact"}))
    assert need > 600
    planned = ness_plan(configfile, tmp_path, "--max-mem-mb", "600")
    assert planned.returncode == 2 and planned.stdout == ""
    (line,) = planned.stderr.splitlines()
    assert "study 'asep_big'" in line and "'L': 20" in line and "600 MB" in line
    workflow = snakemake_runner(tmp_path, configfile, *PROFILE, "--resources", "mem_mb=600")
    errors = [text for text in (workflow.stdout + workflow.stderr).splitlines()
              if text.startswith("config error:")]
    assert workflow.returncode != 0 and errors == [line]
    assert not list(tmp_path.glob("results/asep_big/chunks/*.nc"))  # no job ran
    assert ness_plan(configfile, tmp_path, "--max-mem-mb", str(need + 1)).returncode == 0


@pytest.mark.slow
def test_simulate_job_asks_for_the_memory_of_its_largest_point(tmp_path, snakemake_runner):
    """Wire chains of 100 and 4000 sites, one point per job: the long chain's job asks for
    its estimate, the short one for the fixed least amount."""
    config = {"studies": {"wires": {"model": "wire", "chunk_size": 1,
                                    "sweep": {"N": [100, 4000]}}}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, configfile, "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    requested = {int(m) for m in re.findall(r"mem_mb=(\d+)", result.stdout + result.stderr)}
    model = get_model("wire")
    need = sweep.point_memory_mb(model, model.resolve({"N": 4000}))
    assert need > sweep.JOB_MEM_MB
    assert sweep.JOB_MEM_MB in requested and sweep.job_mem_mb(1, need) in requested
    assert sweep.job_mem_mb(1, need) >= need


PEAK_SCRIPT = """
import json, re, sys
import netCDF4, xarray, ness_core
ness_core.get_model(sys.argv[1])  # a job imports its model (and solver) before the solve
def peak_mb():  # this process's own high-water mark (ru_maxrss inherits the parent's on exec)
    with open("/proc/self/status") as fh:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", fh.read()).group(1)) / 1024
before = peak_mb()
status = ness_core.evaluate(sys.argv[1], **json.loads(sys.argv[2]))["status"]
after = peak_mb()
print(f"imports {before:.0f} MB, after the solve {after:.0f} MB;")
print(status, after - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("model, params", [
    pytest.param("asep", {"L": 16, "method": "exact"}, id="asep-exact-L16"),
    pytest.param("kerr", {"fock_cutoff": 160, "N": 5.0}, id="kerr-cutoff160"),
    pytest.param("wire", {"N": 1000, "drive": 0.2}, id="wire-N1000"),
    pytest.param("xxz", {"L": 8}, id="xxz-L8-all-blocks-factorised"),
])
def test_memory_estimate_covers_the_measured_peak(model, params):
    """Peak resident memory a solve adds to a fresh process (after the imports a job makes)
    is at most the estimate, and the estimate is not wildly above it."""
    result = subprocess.run([sys.executable, "-c", PEAK_SCRIPT, model, json.dumps(params)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    status, measured = result.stdout.splitlines()[-1].split()
    measured = float(measured)
    assert status == "ok", result.stdout
    m = get_model(model)
    estimate = m.memory_estimate(m.resolve(params))
    assert measured <= estimate <= 3 * measured + 20, result.stdout


FORK_EXEC_SCRIPT = """
import os, sys
import numpy as np
ballast = np.ones(50_000_000)  # 400 MB resident in the parent
read, write = os.pipe()
pid = os.fork()
if pid == 0:  # as a job runner does: fork (copying the parent's high-water mark), then exec
    os.dup2(write, 1)
    os.execv(sys.executable, [sys.executable, "-c", "import resource; from ness_core import "
             "sweep; print(sweep.process_peak_mb(), "
             "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"])
os.close(write)
os.waitpid(pid, 0)
print(os.read(read, 200).decode(), ballast[-1])
"""


def test_process_peak_memory_is_the_job_own_not_its_parents():
    """A job forked and exec'd from a process holding 400 MB reports its own peak."""
    result = subprocess.run([sys.executable, "-c", FORK_EXEC_SCRIPT], capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    own, rusage, _ = (float(v) for v in result.stdout.split())
    assert own < 300, result.stdout  # the imports of ness_core.sweep, far below 400 MB
    print(f"own peak {own:.0f} MB, ru_maxrss {rusage:.0f} MB")
