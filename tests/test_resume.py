"""Kill -9 mid-sweep and resume; results independent of chunking; retries with more memory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import xarray as xr
import yaml

from ness_core import configs, dataset, sweep

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))
# six chunks of 200 climate points, jobs of a second or two (dense 3 x 3 solves are
# bit-reproducible; ARPACK's random start vector would not be)
RESUME = {"studies": {"climate_resume": {
    "model": "climate", "chunk_size": 200,
    "sweep": {"drive": {"start": 0.0, "stop": 3.0, "num": 40},
              "temperature": {"start": 0.3, "stop": 2.0, "num": 30}}}}}


def write_config(workdir: Path, config: dict) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def chunk_results(workdir: Path, study: str) -> dict[str, int]:
    """Finished chunk files of ``study``: chunk id → modification time (ns)."""
    chunks = workdir / "results" / study / "chunks"
    return {p.stem: p.stat().st_mtime_ns for p in chunks.glob("*.nc")}


def kill_when_chunks_exist(workdir: Path, configfile: Path, minimum: int) -> None:
    """Start the workflow in its own process group and SIGKILL the group (Snakemake and its
    running jobs) as soon as ``minimum`` chunk files exist."""
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), "--cores", "2", *PROFILE]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while len(chunk_results(workdir, "climate_resume")) < minimum:
            assert proc.poll() is None, "the workflow ended before it could be killed"
            assert time.monotonic() < deadline, "no chunk finished in time"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_kill_minus_nine_then_rerun_computes_only_missing_chunks(tmp_path, snakemake_runner):
    reference_dir = tmp_path / "uninterrupted"
    reference = snakemake_runner(reference_dir, write_config(reference_dir, RESUME), *PROFILE)
    assert reference.returncode == 0, reference.stderr[-3000:]
    planned = len(chunk_results(reference_dir, "climate_resume"))
    assert planned == 6

    workdir = tmp_path / "killed"
    configfile = write_config(workdir, RESUME)
    kill_when_chunks_exist(workdir, configfile, minimum=1)
    survived = chunk_results(workdir, "climate_resume")
    assert 1 <= len(survived) < planned
    assert not (workdir / "results/climate_resume/dataset.nc").exists()

    unlock = snakemake_runner(workdir, configfile, "--unlock")
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = snakemake_runner(workdir, configfile, *PROFILE)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    ran = re.findall(r"^(?:local)?rule simulate:", rerun.stdout + rerun.stderr, flags=re.M)
    assert len(ran) == planned - len(survived)
    after = chunk_results(workdir, "climate_resume")
    assert after.keys() == chunk_results(reference_dir, "climate_resume").keys()
    assert all(after[c] == t for c, t in survived.items())  # finished chunks untouched

    resumed = dataset.read_netcdf(workdir / "results/climate_resume/dataset.nc")
    uninterrupted = dataset.read_netcdf(reference_dir / "results/climate_resume/dataset.nc")
    xr.testing.assert_identical(resumed.drop_attrs(), uninterrupted.drop_attrs())
    assert (resumed["status"].values == "ok").all()


CHUNKING = {"model": "asep", "sweep": {"L": [3, 4, 5], "rho_left": [0.2, 0.7],
                                       "rho_right": [0.3, 0.9]},
            "fixed": {"method": "exact"}}


def chunked_dataset(directory: Path, chunk_size: int | None) -> xr.Dataset:
    """Plan, compute and assemble the CHUNKING study with ``chunk_size``, as the rules do."""
    study = configs.parse_study("chunking", {**CHUNKING, "chunk_size": chunk_size})
    chunks = sweep.plan_study(study, directory)
    for chunk in chunks:
        manifest = sweep.read_manifest(directory / f"{chunk.id}.json")
        dataset.write_netcdf(dataset.compute_chunk(manifest), directory / f"{chunk.id}.nc")
    return dataset.assemble(study, [directory / f"{c.id}.nc" for c in chunks])


def test_dataset_does_not_depend_on_chunk_size(tmp_path):
    """L = 3, 4, 5 profiles: chunks of 1 and 7 points pad `site` differently than one chunk."""
    by_size = {size: chunked_dataset(tmp_path / str(size), size) for size in (1, 7, None)}
    assert len(list((tmp_path / "1").glob("*.nc"))) == 12
    assert len(list((tmp_path / "7").glob("*.nc"))) == 2
    for size in (1, 7):
        xr.testing.assert_identical(by_size[size].drop_attrs(), by_size[None].drop_attrs())
    profile = by_size[None]["density_profile"].sel(L=3)
    assert profile.sizes["site"] == 5 and profile.isel(site=[3, 4]).isnull().all()


def test_failed_simulate_jobs_retry_with_doubled_memory(tmp_path, snakemake_runner):
    """The profile retries failed jobs; the simulate rule asks for mem_mb by attempt."""
    profile = yaml.safe_load((REPO / "workflow/profiles/default/config.yaml").read_text())
    assert profile["retries"] >= 1
    assert [sweep.job_mem_mb(a) for a in (1, 2, 3)] == [sweep.JOB_MEM_MB * k for k in (1, 2, 4)]
    workdir = tmp_path / "dry"
    result = snakemake_runner(workdir, write_config(workdir, RESUME), "-n")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"mem_mb={sweep.JOB_MEM_MB}" in result.stdout + result.stderr
