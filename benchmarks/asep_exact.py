"""Cost of the exact ASEP master equation (2^L states): NESS and spectral gap, by hand.

Usage: ``python benchmarks/asep_exact.py [L ...]`` (default L = 16 18 20). Each (L, task) runs
in a fresh subprocess (``isolated.py``) so that the peak resident memory belongs to that task
alone; "ness" is the stationary state with current and profile, "gap" the spectral gap
(both through ``MarkovGenerator`` with method="auto"). TASEP at alpha = beta = 1 (maximal
current phase, the slowest-relaxing case). Prints one table row per (L, task).
"""

from __future__ import annotations

import json
import sys
import time

from isolated import run_isolated

TASKS = ("ness", "gap")
TIMEOUT = 1800  # seconds per task


def run_task(L: int, task: str) -> dict:
    """Run one task in this process and return its timing, memory and result."""
    from ness_core.models.asep import Rates, bond_currents, exact_generator
    from ness_core.sweep import process_peak_mb

    rates = Rates(q=0.0, alpha=1.0, beta=1.0, gamma=0.0, delta=0.0)
    start = time.perf_counter()
    generator = exact_generator(L, rates)
    if task == "ness":
        state = generator.stationary()
        currents = bond_currents(state.probabilities, L, rates)
        value = f"J={currents.mean():.12f} spread={currents.max() - currents.min():.1e}"
        detail = (f"{state.method}, {state.iterations} it, residual {state.residual:.1e}, "
                  f"{state.status}")
    else:
        gap = generator.spectral_gap()
        value = f"gap={gap.gap:.8f}"
        detail = gap.method
    seconds = time.perf_counter() - start
    return {"L": L, "task": task, "seconds": seconds, "peak_mb": process_peak_mb(), "value": value,
            "detail": detail}


def main(sizes: list[int]) -> None:
    print(f"{'L':>3} {'task':<5} {'seconds':>9} {'peak MB':>8}  result")
    for L in sizes:
        for task in TASKS:
            r, why = run_isolated(__file__, [str(L), task], TIMEOUT)
            if r is None:
                print(f"{L:>3} {task:<5} {why}")
                continue
            print(f"{L:>3} {task:<5} {r['seconds']:>9.2f} {r['peak_mb']:>8.0f}  "
                  f"{r['value']} ({r['detail']})", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--task":
        print(json.dumps(run_task(int(sys.argv[2]), sys.argv[3])))
    else:
        main([int(a) for a in sys.argv[1:]] or [16, 18, 20])
