"""Cost of the exact ASEP master equation (2^L states): NESS and spectral gap, before/after.

Usage: ``python benchmarks/asep_exact.py [--before REV] [--tasks ness,gap,point,general,reference]
[L ...]`` (default L = 16 18 20, tasks ness,gap,point). Each (L, task, code) runs in a fresh
subprocess (``isolated.py``), so the peak resident memory is that task's own; "before" runs
the same task on the package as of git revision REV (default ``BEFORE``, the commit before
the particle–hole × reflection split and the filtered Arnoldi), extracted with
``git archive`` and put first on the child's PYTHONPATH; "after" on this tree. Tasks, TASEP
at alpha = beta = 1 (maximal current phase, the slowest-relaxing case):

* ``ness``: stationary state and current J (exact: (L + 2)/(2(2L + 1)), DEHP 1993);
* ``gap``: spectral gap (with its products);
* ``point``: ``ness_core.evaluate("asep", L=L)``, the model's NESS + gap in one process;
* ``general``: the same at beta = 0.999 (``rho_right`` = 1e-3), where the rates are not
  reflection symmetric and the full W is solved;
* ``reference``: the gap by REV's plain ARPACK on the full W (``which="LR"``) with the
  tolerance tightened from 1e-10 to 1e-13, the independent value the gaps are compared to.

Prints one row per (L, task): seconds before and after, their ratio, the work (BiCGSTAB
iterations or products) and the values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isolated import run_isolated

BEFORE = "c8e6793"
TASKS = ("ness", "gap", "point")
TIMEOUT = 1800  # seconds per task
REFERENCE_TOL = 1e-13
GENERAL_RHO_RIGHT = 1e-3  # task "general": beta = 0.999 != alpha, no reflection symmetry


def run_task(L: int, task: str) -> dict:
    """Run one task in this process on whichever package is first on the path."""
    from ness_core.models import asep
    from ness_core.sweep import process_peak_mb

    rates = asep.Rates(q=0.0, alpha=1.0, beta=1.0, gamma=0.0, delta=0.0)
    split = hasattr(asep, "reflection_sectors")  # the code has the C-symmetric blocks
    start = time.perf_counter()
    out: dict = {}
    if task == "ness":
        if split:
            sectors = asep.reflection_sectors(L, rates)
            lumped = sectors.symmetric.stationary()
            p = sectors.probabilities(lumped.probabilities)
            iterations, status = lumped.iterations, lumped.status
        else:
            state = asep.exact_generator(L, rates).stationary()
            p, iterations, status = state.probabilities, state.iterations, state.status
        current = float(asep.bond_currents(p, L, rates).mean())
        out = {"current": current, "error": current - (L + 2) / (2 * (2 * L + 1)),
               "work": f"{iterations} it", "status": status}
    elif task in ("gap", "reference"):
        if task == "reference":
            from ness_core.solvers import markov_spectrum
            markov_spectrum.ARNOLDI_TOL = REFERENCE_TOL
        if split:
            gap = asep.sector_gap(asep.reflection_sectors(L, rates))
        else:
            gap = asep.exact_generator(L, rates).spectral_gap()
        out = {"gap": gap.gap, "work": f"{gap.products} products"}
    else:
        from ness_core import evaluate
        r = evaluate("asep", L=L, rho_right=GENERAL_RHO_RIGHT if task == "general" else 0.0)
        out = {"gap": r["gap"], "current": r["current"], "work": "", "status": r["status"]}
    out.update(L=L, task=task, seconds=time.perf_counter() - start, peak_mb=process_peak_mb())
    return out


def _revision_tree(rev: str, into: str) -> str:
    """The package ``ness_core`` as of ``rev``, unpacked under ``into``."""
    root = Path(__file__).resolve().parents[1]
    archive = subprocess.run(["git", "-C", str(root), "archive", rev, "ness_core"],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    return into


def _value(r: dict) -> str:
    parts = []
    if "current" in r:
        parts.append(f"J={r['current']:.12f}")
    if "error" in r:
        parts.append(f"J-exact={r['error']:.1e}")
    if "gap" in r:
        parts.append(f"gap={r['gap']:.12f}")
    return " ".join(parts)


def main(sizes: list[int], tasks: list[str], before: str) -> None:
    root = str(Path(__file__).resolve().parents[1])
    with tempfile.TemporaryDirectory() as tmp:
        codes = {"before": _revision_tree(before, tmp), "after": root}
        print(f"before = {before}, after = this tree; seconds per fresh process")
        print(f"{'L':>3} {'task':<9} {'before s':>9} {'after s':>8} {'ratio':>6} "
              f"{'MB b/a':>9}  work before | after; values before | after; gap / reference - 1")
        for L in sizes:
            reference = None
            for task in sorted(tasks, key=lambda t: t != "reference"):  # reference first
                rows = {}
                for name, path in codes.items():
                    if task == "reference" and name == "after":
                        continue
                    env = dict(os.environ, PYTHONPATH=path)
                    rows[name], why = run_isolated(__file__, [str(L), task], TIMEOUT, env)
                    if rows[name] is None:
                        print(f"{L:>3} {task:<9} {name}: {why}", flush=True)
                b, a = rows.get("before"), rows.get("after")
                if b is None:
                    continue
                if task == "reference":
                    reference = b["gap"]
                    print(f"{L:>3} {task:<9} {b['seconds']:>9.2f} {'':>8} {'':>6} "
                          f"{b['peak_mb']:>9.0f}  {b['work']}; {_value(b)}", flush=True)
                    continue
                if a is None:
                    continue
                diff = ""
                if "gap" in a and reference is not None:
                    diff = (f"; vs reference {b['gap'] / reference - 1:+.1e} | "
                            f"{a['gap'] / reference - 1:+.1e}")
                elif "gap" in a:
                    diff = f"; after/before - 1 = {a['gap'] / b['gap'] - 1:+.1e}"
                print(f"{L:>3} {task:<9} {b['seconds']:>9.2f} {a['seconds']:>8.2f} "
                      f"{b['seconds'] / a['seconds']:>6.2f} "
                      f"{b['peak_mb']:>4.0f}/{a['peak_mb']:<4.0f}  {b['work']} | {a['work']}; "
                      f"{_value(b)} | {_value(a)}{diff}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--task":
        print(json.dumps(run_task(int(sys.argv[2]), sys.argv[3])))
    else:
        args = sys.argv[1:]
        options = {"--before": BEFORE, "--tasks": ",".join(TASKS)}
        for flag in options:
            if flag in args:
                i = args.index(flag)
                options[flag] = args[i + 1]
                del args[i:i + 2]
        main([int(a) for a in args] or [16, 18, 20], options["--tasks"].split(","),
             options["--before"])
