"""Cluster profiles: every rule gets its resources, and the squeue-only status script."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from ness_core import sweep

REPO = Path(__file__).resolve().parents[2]
PROFILES = REPO / "workflow" / "profiles"
PLUGINS = {"slurm": "snakemake_executor_plugin_slurm",
           "cluster-generic": "snakemake_executor_plugin_cluster_generic"}


def job_resources(output: str) -> dict[str, dict[str, str]]:
    """Rule name → resources of its (last) job in a dry run's output."""
    out: dict[str, dict[str, str]] = {}
    rule = None
    for line in output.splitlines():
        match = re.match(r"^(?:local)?rule (\w+):", line)
        if match:
            rule = match.group(1)
        elif rule and line.strip().startswith("resources:"):
            pairs = line.split(":", 1)[1].split(",")
            out[rule] = dict(pair.strip().split("=", 1) for pair in pairs)
    return out


@pytest.mark.parametrize("profile", list(PLUGINS))
def test_cluster_profile_gives_every_rule_memory_and_runtime(profile, tmp_path,
                                                             snakemake_runner):
    pytest.importorskip(PLUGINS[profile], reason=f"pip install -e '.[cluster]' ({profile})")
    result = snakemake_runner(tmp_path, REPO / "tests" / "data" / "tiny.yaml", "-n",
                              "--workflow-profile", str(PROFILES / profile))
    assert result.returncode == 0, result.stderr[-3000:]
    resources = job_resources(result.stdout + result.stderr)
    resources.pop("all")  # the target rule runs nothing
    assert set(resources) == {"manifests", "simulate", "gather", "figure", "report_section",
                              "summary_report"}
    assert resources["simulate"]["mem_mb"] == str(sweep.job_mem_mb(1))
    for rule, res in resources.items():
        assert int(res["mem_mb"]) >= 1000 and int(res["runtime"]) > 0, rule


@pytest.mark.parametrize("state, expected", [
    ("PENDING", "running"), ("RUNNING", "running"), ("COMPLETING", "running"),
    ("COMPLETED", "success"), ("", "success"), ("FAILED", "failed"),
    ("OUT_OF_MEMORY", "failed"), ("TIMEOUT", "failed"), ("CANCELLED", "failed"),
])
def test_squeue_status_script_maps_slurm_states(state, expected, tmp_path):
    """A stand-in squeue prints STATE for the job id it is asked about."""
    squeue = tmp_path / "squeue"
    squeue.write_text(f'#!/bin/sh\ncase "$*" in *"--jobs 4242"*) [ -n "{state}" ] && '
                      f'echo "{state}";; esac\nexit 0\n')
    squeue.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    script = PROFILES / "cluster-generic" / "status-squeue.sh"
    result = subprocess.run([str(script), "4242"], capture_output=True, text=True, env=env,
                            timeout=30)
    assert result.returncode == 0 and result.stdout.strip() == expected
