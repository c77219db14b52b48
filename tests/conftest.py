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


@pytest.fixture(scope="session")
def example_plugin(tmp_path_factory):
    """examples/ness-sweep-plugin-example installed (pip, no network, no build isolation)
    into a fresh directory, which is returned; it is also put on this process's sys.path,
    so ``get_model("biased_ring")`` finds the plugin through its entry point."""
    import importlib
    import shutil

    from ness_core.models import plugins

    source = tmp_path_factory.mktemp("plugin_source") / "example"
    shutil.copytree(REPO / "examples" / "ness-sweep-plugin-example", source)
    target = tmp_path_factory.mktemp("plugin_site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(target),
                    str(source)], check=True, capture_output=True, timeout=300)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    plugins.entry_points.cache_clear()
    return target
