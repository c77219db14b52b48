"""End to end on a real single-node SLURM (`make test-cluster`, after tests/cluster/slurm-up).

Skipped unless NESS_TEST_SLURM=1 and sbatch is on PATH: the daemons need root.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ness_core import dataset

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "workflow" / "profiles"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
CONFIG = {"studies": {
    "climate_slurm": {"model": "climate", "chunk_size": 4,
                      "sweep": {"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                                "temperature": [0.5, 1.0]}},
    "asep_slurm": {"model": "asep", "chunk_size": 5,
                   "sweep": {"rho_left": [0.2, 0.5, 0.8], "rho_right": [0.2, 0.8]},
                   "fixed": {"L": 4, "method": "exact"}},
}}
TARGETS = [f"results/{name}/dataset.nc" for name in CONFIG["studies"]]
SIMULATE_JOBS = 5  # 10 climate points in chunks of 4 (3 jobs), 6 ASEP points in chunks of 5
# A hung run ignores SIGTERM (it waits for jobs it never submitted): kill it after this.
TIMEOUT = 400

pytestmark = pytest.mark.skipif(
    os.environ.get("NESS_TEST_SLURM") != "1" or shutil.which("sbatch") is None,
    reason="needs a running SLURM: make test-cluster (root; starts tests/cluster/slurm-up)")


def run(workdir: Path, *args: str) -> tuple[float, str]:
    """Wall seconds and output of the workflow on CONFIG in ``workdir`` (asserts success
    within :data:`TIMEOUT` seconds)."""
    workdir.mkdir()
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), *args, *TARGETS]
    start = time.perf_counter()
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"no result after {TIMEOUT} s (hung): "
                    f"{(hung.stdout or b'')[-3000:]!r} {(hung.stderr or b'')[-3000:]!r}")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return time.perf_counter() - start, result.stdout + result.stderr


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> tuple[float, Path]:
    """Wall seconds and directory of CONFIG run on this host with the default profile."""
    workdir = tmp_path_factory.mktemp("slurm") / "local"
    seconds, _ = run(workdir, "--cores", "2", "--workflow-profile", str(PROFILES / "default"))
    return seconds, workdir


def assert_same_datasets(workdir: Path, reference: Path) -> None:
    for target in TARGETS:
        on_slurm = dataset.read_netcdf(workdir / target)
        on_host = dataset.read_netcdf(reference / target)
        assert on_slurm.sizes == on_host.sizes
        for name, var in on_host.data_vars.items():
            if var.dtype.kind in "OUS":
                np.testing.assert_array_equal(on_slurm[name].values, var.values)
            else:
                np.testing.assert_allclose(on_slurm[name].values, var.values,
                                           rtol=1e-12, atol=1e-12, equal_nan=True)


def test_slurm_profile_gives_the_local_dataset(tmp_path, local_run):
    slurm, output = run(tmp_path / "slurm", "--workflow-profile", str(PROFILES / "slurm"))
    print(f"\ntiny study wall time: SLURM {slurm:.1f} s, local {local_run[0]:.1f} s")
    # every simulate job and the 2 gathers through sbatch, one job each
    assert output.count("submitted with SLURM jobid") == SIMULATE_JOBS + 2, output[-4000:]
    assert_same_datasets(tmp_path / "slurm", local_run[1])


def test_fewer_job_slots_than_ready_jobs_does_not_deadlock(tmp_path, local_run):
    """--jobs 2 with 5 simulate jobs ready: Snakemake submits more as slots free up."""
    seconds, output = run(tmp_path / "slurm", "--workflow-profile", str(PROFILES / "slurm"),
                          "--jobs", "2")
    print(f"\n--jobs 2, {SIMULATE_JOBS} ready simulate jobs: {seconds:.1f} s")
    assert output.count("submitted with SLURM jobid") == SIMULATE_JOBS + 2, output[-4000:]
    assert_same_datasets(tmp_path / "slurm", local_run[1])


def test_simulate_jobs_as_one_array_when_all_ready_jobs_fit(tmp_path, local_run):
    """--slurm-array-jobs simulate with more job slots (100) than ready jobs (5): one
    sbatch --array call. (With fewer slots than ready jobs plugin 2.8 never submits the
    jobs it holds back and the run hangs; docs/cluster.md, "Array jobs".)"""
    seconds, output = run(tmp_path / "slurm", "--workflow-profile", str(PROFILES / "slurm"),
                          "--slurm-array-jobs", "simulate")
    print(f"\nsimulate as a SLURM array: {seconds:.1f} s")
    assert output.count("Submitted array job") == 1, output[-4000:]
    assert f"task IDs are 1-{SIMULATE_JOBS}" in output
    assert output.count("submitted with SLURM jobid") == 2  # the gathers, one by one
    assert_same_datasets(tmp_path / "slurm", local_run[1])
