"""Speed of the ASEP Monte Carlo kernel, by hand: attempts and hops per second on one core.

Usage: ``python benchmarks/asep_mc.py [L ...]`` (default L = 100 1000). TASEP in the three
phases; the kernel is compiled (and cached) by a warm-up run first. A "hop" is a performed
move (bulk hop or boundary move), an "attempt" a proposed one; hops/attempt is the
acceptance, about rho(1 − rho) in the bulk, which is what limits hops per second.
"""

from __future__ import annotations

import sys
import time

from ness_core.models.asep import Rates, simulate

PHASES = {"MC": (1.0, 1.0), "LD": (0.2, 0.8), "HD": (0.8, 0.2)}
ATTEMPTS = 2 * 10**8  # per measurement


def main(sizes: list[int]) -> None:
    simulate(10, Rates(q=0.0, alpha=1.0, beta=1.0, gamma=0.0, delta=0.0), 1000, 0, 0.5)
    print(f"{'L':>6} {'phase':<5} {'seconds':>8} {'attempts/s':>11} {'hops/s':>10} {'accept':>7}")
    for L in sizes:
        for phase, (alpha, beta) in PHASES.items():
            rates = Rates(q=0.0, alpha=alpha, beta=beta, gamma=0.0, delta=0.0)
            sweeps = round(ATTEMPTS / (L - 1 + alpha + beta))
            start = time.perf_counter()
            run = simulate(L, rates, sweeps, 1, 0.5)
            seconds = time.perf_counter() - start
            print(f"{L:>6} {phase:<5} {seconds:>8.2f} {run.attempts / seconds:>11.3g} "
                  f"{run.moves / seconds:>10.3g} {run.moves / run.attempts:>7.3f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100, 1000])
