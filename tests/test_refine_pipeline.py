"""The refine: block: config errors before any job, and refinement run by the workflow
(rounds as checkpoints, reuse of computed points, Nothing to be done, kill -9 and resume)."""

from __future__ import annotations

import copy
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ness_core import configs, dataset, refinement, refinement2d
from ness_core.api import evaluate
from ness_core.models import kerr

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))
FIXED = {"detuning": 3.0, "U0": 1.0, "kappa": 1.0, "temperature": 0.0}
REFINE = {"axis": "drive", "target": "minimum", "observable": "gap", "tolerance": 1e-4,
          "max_points": 30}
STUDY = {"model": "kerr", "sweep": {"drive": {"start": 0.5, "stop": 2.5, "num": 9},
                                    "N": [1.0]},
         "fixed": FIXED, "refine": REFINE}


def load(**refine):
    spec = copy.deepcopy(STUDY)
    spec["refine"].update(refine)
    return configs.load_config({"studies": {"k": spec}}, SCHEMA)


@pytest.mark.parametrize(("refine", "message"), [
    ({"axis": "drve"}, "refine 'axis': 'drve' is no parameter of model 'kerr'; swept axes"),
    ({"axis": "kappa"}, "refine 'axis': 'kappa' is a parameter of model 'kerr' but not swept"),
    ({"target": "boundary"}, "refine 'target': 'boundary' is not one of minimum, maximum, "
                             "steepest (the targets of axis:); 'boundary' is a target of axes"),
    ({"target": "bondary"}, "refine, target: 'bondary' is not one of"),
    ({"axes": ["drive", "N"]}, "refine: give either 'axis' (one swept axis) or 'axes' (two)"),
    ({"observable": "gapp"}, "refine 'observable': 'gapp' is not a scalar numeric"),
    ({"observable": "status"}, "refine 'observable': 'status' is not a scalar numeric"),
    ({"tolerance": 0.0}, "refine, tolerance: 0.0 is less than or equal to"),
    ({"max_points": 8}, "refine 'max_points': 8 is smaller than the 9 points"),
])
def test_config_errors(refine, message):
    with pytest.raises(configs.ConfigError, match=re.escape(message)):
        load(**refine)


def test_config_error_for_a_non_real_axis():
    spec = copy.deepcopy(STUDY)
    spec["sweep"]["gap_modes"] = [4, 6, 8]
    spec["refine"]["axis"] = "gap_modes"
    with pytest.raises(configs.ConfigError, match="'gap_modes' needs a real-valued parameter"):
        configs.load_config({"studies": {"k": spec}}, SCHEMA)


PLANE = {"model": "asep",
         "sweep": {"rho_left": {"start": 0.05, "stop": 0.95, "num": 5},
                   "rho_right": {"start": 0.05, "stop": 0.95, "num": 5}, "L": [10, 40]},
         "fixed": {"method": "formula"},
         "refine": {"axes": ["rho_left", "rho_right"], "target": "boundary",
                    "observable": "density", "tolerance": 0.1, "max_points": 60}}


@pytest.mark.parametrize(("refine", "sweep", "message"), [
    ({"axes": ["rho_left"]}, {}, "refine 'axes': expected two different swept axes [x, y], "
                                 "got ['rho_left']"),
    ({"axes": ["rho_left", "rho_left"]}, {}, "refine 'axes': expected two different swept"),
    ({"axes": ["rho_left", "rho_right", "L"]}, {}, "refine 'axes': expected two different"),
    ({"axes": ["rho_left", "drive"]}, {},
     "refine 'axes': 'drive' is a parameter of model 'asep' but not swept"),
    ({"axes": ["rho_left", "L"]}, {},
     "refine 'axes': 'L' needs a real-valued parameter with at least 2 values"),
    ({"axes": ["rho_left", "method"]}, {"method": ["formula"]},
     "refine 'axes': 'method' needs a real-valued parameter"),
    ({"target": "minimum"}, {}, "refine 'target': 'minimum' is not one of boundary (the "
                                "targets of axes:); 'minimum' is a target of axis:"),
    ({"max_points": 24}, {}, "refine 'max_points': 24 is smaller than the 25 points of the "
                             "grid along 'rho_left' x 'rho_right'"),
])
def test_config_errors_of_a_boundary_in_a_plane(refine, sweep, message):
    spec = copy.deepcopy(PLANE)
    spec["refine"].update(refine)
    spec["sweep"].update(sweep)
    if "method" in sweep:
        del spec["fixed"]["method"]
    with pytest.raises(configs.ConfigError, match=re.escape(message)):
        configs.load_config({"studies": {"a": spec}}, SCHEMA)


def test_config_error_reaches_snakemake_before_any_job(tmp_path, snakemake_runner):
    spec = copy.deepcopy(STUDY)
    spec["refine"]["observable"] = "gapp"
    config = write(tmp_path, {"studies": {"k": spec}})
    run = snakemake_runner(tmp_path, config, "-n")
    assert run.returncode != 0
    assert "config error: study 'k', refine 'observable': 'gapp'" in run.stderr + run.stdout
    assert not (tmp_path / "results").exists()


def write(workdir: Path, config: dict) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def chunk_results(workdir: Path) -> dict[str, int]:
    return {p.stem: p.stat().st_mtime_ns
            for p in (workdir / "results/k/chunks").glob("*.nc")}


def gap(drive):
    return evaluate("kerr", drive=drive, N=1.0, **FIXED)["gap"]


def test_refinement_end_to_end_then_nothing_to_do_and_reuse(tmp_path, snakemake_runner):
    config = write(tmp_path, {"studies": {"k": STUDY}})
    dry = snakemake_runner(tmp_path, config, "-n", *PROFILE)
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert not (tmp_path / "results").exists()  # a dry run writes nothing
    run = snakemake_runner(tmp_path, config, *PROFILE)
    assert run.returncode == 0, run.stderr[-3000:]
    [entry] = json.loads((tmp_path / "results/k/refinement.json").read_text())
    # the pipeline's rounds give what the same algorithm gives in one process, to the
    # solver's tolerance (chunks are solved as warm-started paths, points one by one here)
    status, xs, rounds = refinement.refine_function(gap, np.linspace(0.5, 2.5, 9), "minimum",
                                                    1e-4, 30)
    assert entry["select"] == {"N": 1.0}
    assert (entry["axis"], entry["target"], entry["observable"]) == ("drive", "minimum", "gap")
    assert entry["converged"] and entry["points"] == len(xs) == status.points
    assert entry["location"] == pytest.approx(status.location, rel=1e-9)
    assert entry["value"] == pytest.approx(status.value, rel=1e-9)
    assert entry["rounds"] == rounds >= 1
    # the model's N → inf limit of the location rides along (its physics: tests/test_kerr.py)
    limit = kerr.transition_drive(FIXED["detuning"], FIXED["U0"], FIXED["kappa"])
    assert entry["limit"]["location"] == limit
    assert entry["limit"]["window"] == list(kerr.bistable_window(3.0, 1.0, 1.0))
    ds = dataset.read_netcdf(tmp_path / "results/k/dataset.nc")
    np.testing.assert_allclose(sorted(ds["drive"].values), sorted(xs), rtol=1e-9)  # union grid
    assert int(ds["gap"].notnull().sum()) == len(xs)
    # what the figures mark: the coarse grid and the located target
    np.testing.assert_allclose(json.loads(ds.attrs["coarse_grid"])["drive"],
                               np.linspace(0.5, 2.5, 9), rtol=1e-12)
    [target] = json.loads(ds.attrs["refinement_targets"])
    assert (target["select"], target["location"], target["value"]) == (
        entry["select"], entry["location"], entry["value"])
    summary = dataset.read_netcdf(tmp_path / "results/k/refinement.nc")
    assert float(summary["value"].sel(N=1.0)) == entry["value"]
    assert float(summary["limit_location"].sel(N=1.0)) == limit
    assert summary["limit_location"].attrs["units"] == "energy"  # the drive's unit
    assert [p.stat().st_size > 0 for p in (tmp_path / "results/k/figures").glob("*.png")] == [True]
    assert (tmp_path / "results/k/refinement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = snakemake_runner(tmp_path, config, "-n", *PROFILE)
    assert "Nothing to be done" in again.stdout + again.stderr
    # a larger budget redoes the rounds, but every point they want is computed already
    before = chunk_results(tmp_path)
    larger = copy.deepcopy(STUDY)
    larger["refine"]["max_points"] = 40
    config = write(tmp_path, {"studies": {"k": larger}})
    rerun = snakemake_runner(tmp_path, config, *PROFILE)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert "rule simulate" not in rerun.stdout + rerun.stderr
    assert chunk_results(tmp_path) == before
    [same] = json.loads((tmp_path / "results/k/refinement.json").read_text())
    assert same == entry


@pytest.mark.slow
def test_kill_minus_nine_mid_refinement_then_resume(tmp_path, snakemake_runner):
    reference = tmp_path / "reference"
    config = write(reference, {"studies": {"k": STUDY}})
    assert snakemake_runner(reference, config, *PROFILE).returncode == 0
    coarse = len(json.loads((reference / "results/k/refine/round_0.json").read_text())
                 ["chunks"])
    workdir = tmp_path / "killed"
    config = write(workdir, {"studies": {"k": STUDY}})
    cmd = [str(Path(os.sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"),
           "-d", str(workdir), "--configfile", str(config), "--cores", "2", *PROFILE]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:  # killed once the first refinement chunk is computed
        deadline = time.monotonic() + 300
        while not (workdir / "results/k/refine/round_1.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert coarse >= 1 and not (workdir / "results/k/refinement.json").exists()
    survived = chunk_results(workdir)
    assert snakemake_runner(workdir, config, "--unlock").returncode == 0
    rerun = snakemake_runner(workdir, config, *PROFILE)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    after = chunk_results(workdir)
    assert all(after[c] == t for c, t in survived.items())  # nothing finished recomputed
    assert ((workdir / "results/k/refinement.json").read_text()
            == (reference / "results/k/refinement.json").read_text())
    for name in ("gap", "drive"):
        np.testing.assert_array_equal(
            dataset.read_netcdf(workdir / "results/k/dataset.nc")[name].values,
            dataset.read_netcdf(reference / "results/k/dataset.nc")[name].values)


def test_boundary_in_a_plane_end_to_end(tmp_path, snakemake_runner):
    # the ASEP density jumps across the LD/HD line; the pipeline's rounds give what the same
    # algorithm gives in one process (method formula: the same numbers point by point)
    config = write(tmp_path, {"studies": {"a": PLANE}})
    run = snakemake_runner(tmp_path, config, *PROFILE)
    assert run.returncode == 0, run.stderr[-3000:]
    entries = json.loads((tmp_path / "results/a/refinement.json").read_text())
    assert [e["select"] for e in entries] == [{"L": 10}, {"L": 40}]
    ds = dataset.read_netcdf(tmp_path / "results/a/dataset.nc")
    coarse = np.linspace(0.05, 0.95, 5)
    for entry in entries:
        L = entry["select"]["L"]
        status, points, rounds = refinement2d.refine_function(
            lambda a, b, L=L: evaluate("asep", L=L, rho_left=a, rho_right=b,
                                       method="formula")["density"],
            coarse, coarse, 0.1, 60)
        assert (entry["axes"], entry["target"], entry["observable"]) == (
            ["rho_left", "rho_right"], "boundary", "density")
        assert (entry["points"], entry["converged"], entry["rounds"]) == (
            status.points, status.converged, rounds)
        np.testing.assert_allclose(entry["boundary"], status.boundary, rtol=1e-12)
        sl = ds["density"].sel(L=L)
        assert int(sl.notnull().sum()) == len(points)  # the union grid, NaN elsewhere
        for a, b in points:
            assert np.isfinite(float(sl.sel(rho_left=a, rho_right=b)))
    summary = dataset.read_netcdf(tmp_path / "results/a/refinement.nc")
    assert summary["points"].sel(L=40) == entries[1]["points"]
    assert (tmp_path / "results/a/refinement.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = snakemake_runner(tmp_path, config, "-n", *PROFILE)
    assert "Nothing to be done" in again.stdout + again.stderr
