"""Run one benchmark task in a fresh interpreter, so its peak memory is its own.

The calling script handles ``script --task ARG ...`` by running the task in-process and
printing one JSON line; :func:`run_isolated` starts that child and parses the line. Tasks
report memory with :func:`ness_core.sweep.process_peak_mb` (the child's own VmHWM).
"""

from __future__ import annotations

import json
import subprocess
import sys


def run_isolated(script: str, args: list[str], timeout: float,
                 env: dict[str, str] | None = None) -> tuple[dict | None, str]:
    """The task's JSON result and ``""``, or ``None`` and why it has none; ``env`` replaces
    the child's environment (e.g. another PYTHONPATH, to time an older revision)."""
    cmd = [sys.executable, script, "--task", *args]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             check=True, env=env).stdout
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout:g} s"
    except subprocess.CalledProcessError as exc:
        return None, f"failed: {exc.stderr.strip().splitlines()[-1]}"
    return json.loads(out), ""
