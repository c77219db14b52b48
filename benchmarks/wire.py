"""Benchmark of the `wire` model: exact wide-band NESS, gap, mutual information, Landauer.

Run by hand: ``python benchmarks/wire.py [N ...]`` (default N = 1000 and 4000). Each size runs
in a fresh subprocess so that its peak resident memory (``ru_maxrss``) is its own; the table
lists the wall time of the NESS (correlation matrix + damping spectrum), of the mutual
information, of the Landauer quadrature, of a whole ``evaluate`` call, and the peak memory.
Target: N = 1000 NESS + gap + mutual information in ≤ 2 s on 2 cores.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import numpy as np


def measure(n: int) -> dict[str, float]:
    """Time the stages of one wire point with N = n (ΔT = 0.5 around T = 1, bias 0.2)."""
    from ness_core import evaluate
    from ness_core.models.wire import Wire, landauer_currents, lead_parameters
    from ness_core.solvers.gaussian import Lead, fermion_mutual_information, lead_steady_state

    params = Wire().resolve({"N": n, "drive": 0.5, "bias": 0.2})
    t_left, t_right, mu_left, mu_right = lead_parameters(params)
    leads = [Lead(0, 1.0, t_left, mu_left), Lead(n - 1, 1.0, t_right, mu_right)]
    h = -(np.eye(n, k=1) + np.eye(n, k=-1))
    k = np.arange(1, n + 1)
    basis = np.sqrt(2 / (n + 1)) * np.sin(np.pi * np.outer(k, k) / (n + 1))
    energies = -2 * np.cos(np.pi * k / (n + 1))
    start = time.perf_counter()
    state = lead_steady_state(h, leads, "fermi", eigenbasis=(energies, basis))
    _ = state.gap
    ness = time.perf_counter() - start
    start = time.perf_counter()
    fermion_mutual_information(state.correlation, np.arange(n // 2))
    mutual = time.perf_counter() - start
    start = time.perf_counter()
    landauer_currents(n, 1.0, 0.0, 1.0, leads)
    landauer = time.perf_counter() - start
    start = time.perf_counter()
    out = evaluate("wire", N=n, drive=0.5, bias=0.2)
    total = time.perf_counter() - start
    return {"N": n, "ness": ness, "mutual_information": mutual, "landauer": landauer,
            "evaluate": total, "residual": out["residual"], "status": out["status"]}


def main(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        proc = subprocess.run([sys.executable, __file__, "--single", str(n)],
                              capture_output=True, text=True, check=True)
        row = json.loads(proc.stdout)
        row["peak_MiB"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        rows.append(row)
    header = (f"{'N':>6} {'NESS+gap s':>11} {'MI s':>7} {'NESS+gap+MI s':>14} "
              f"{'Landauer s':>11} {'evaluate s':>11} {'peak MiB':>9} {'residual':>9}  status")
    print(header)
    for r in rows:
        print(f"{r['N']:>6} {r['ness']:>11.2f} {r['mutual_information']:>7.2f} "
              f"{r['ness'] + r['mutual_information']:>14.2f} {r['landauer']:>11.2f} "
              f"{r['evaluate']:>11.2f} {r['peak_MiB']:>9.0f} {r['residual']:>9.1e}  {r['status']}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--single":
        print(json.dumps(measure(int(sys.argv[2]))))
    else:
        main([int(a) for a in sys.argv[1:]] or [1000, 4000])
