"""Shared helpers: run the repository's Snakefile on a config in a temporary directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# CI draws the same property-test examples on every run (a red run is then reproducible and
# no clean clone fails by a new draw); locally each run draws new ones.
settings.register_profile("ci", derandomize=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")


def run_snakemake(workdir: Path, configfile: Path, *args: str) -> subprocess.CompletedProcess:
    """``snakemake -s REPO/Snakefile -d workdir --configfile configfile ARGS`` (2 cores)."""
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def snakemake_runner():
    """The :func:`run_snakemake` helper, for tests that drive the workflow."""
    return run_snakemake
