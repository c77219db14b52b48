"""End to end on a real single-node SLURM (`make test-cluster`, after tests/cluster/slurm-up).

Skipped unless NESS_TEST_SLURM=1 and sbatch is on PATH: the daemons need root.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from ness_core import dataset

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "workflow" / "profiles"
CONFIG = {"studies": {
    "climate_slurm": {"model": "climate", "chunk_size": 4,
                      "sweep": {"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                                "temperature": [0.5, 1.0]}},
    "asep_slurm": {"model": "asep", "chunk_size": 5,
                   "sweep": {"rho_left": [0.2, 0.5, 0.8], "rho_right": [0.2, 0.8]},
                   "fixed": {"L": 4, "method": "exact"}},
}}
TARGETS = [f"results/{name}/dataset.nc" for name in CONFIG["studies"]]

pytestmark = pytest.mark.skipif(
    os.environ.get("NESS_TEST_SLURM") != "1" or shutil.which("sbatch") is None,
    reason="needs a running SLURM: make test-cluster (root; starts tests/cluster/slurm-up)")


def run(workdir: Path, snakemake_runner, *args: str) -> tuple[float, str]:
    """Wall seconds and output of the workflow on CONFIG in ``workdir`` (asserts success)."""
    workdir.mkdir()
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
    start = time.perf_counter()
    result = snakemake_runner(workdir, configfile, *args, *TARGETS)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return time.perf_counter() - start, result.stdout + result.stderr


def test_slurm_profile_gives_the_local_dataset(tmp_path, snakemake_runner):
    slurm, output = run(tmp_path / "slurm", snakemake_runner,
                        "--workflow-profile", str(PROFILES / "slurm"))
    local, _ = run(tmp_path / "local", snakemake_runner,
                   "--workflow-profile", str(PROFILES / "default"))
    print(f"\ntiny study wall time: SLURM {slurm:.1f} s, local {local:.1f} s")
    # 3 + 2 simulate jobs and 2 gathers, every one through sbatch
    assert output.count("submitted with SLURM jobid") == 7, output[-4000:]
    for target in TARGETS:
        on_slurm = dataset.read_netcdf(tmp_path / "slurm" / target)
        on_host = dataset.read_netcdf(tmp_path / "local" / target)
        assert on_slurm.sizes == on_host.sizes
        for name, var in on_host.data_vars.items():
            if var.dtype.kind in "OUS":
                np.testing.assert_array_equal(on_slurm[name].values, var.values)
            else:
                np.testing.assert_allclose(on_slurm[name].values, var.values,
                                           rtol=1e-12, atol=1e-12, equal_nan=True)
