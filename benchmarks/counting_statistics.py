"""Overhead of ``fluctuations=true``: exact ASEP (cumulants, correlations) and Kerr oscillator.

Usage: ``OPENBLAS_NUM_THREADS=1 python benchmarks/counting_statistics.py [L ...]`` (default
L = 12 16), then the Kerr rows (Fock cutoffs ``KERR_CUTOFFS``). ASEP: partially asymmetric
chain, q = e^-1, rho_left = 0.9, rho_right = 0.1 (finite entropy production, so the TUR ratio
is finite). Per L and stationary method ("auto" is what
``asep`` uses: iterative above 2^11 states; "direct" keeps the sparse LU), the best of
``REPEATS`` wall times of

* ``ness``: the stationary solve on a freshly built generator (pinned minor, its LU for
  "direct", and the solve);
* ``cumulants``: :meth:`MarkovGenerator.current_cumulants` given that state (one extra
  minor solve: LU back-substitution for "direct", one BiCGSTAB solve for "iterative");
* ``correlation``: :func:`ness_core.models.asep.density_correlation`, O(L² 2^L);
* ``evaluate``: a whole ``asep`` point (NESS + gap) with ``fluctuations`` false and true.

The overhead columns are relative to the plain stationary solve and to the whole point.

Kerr resonator (bistable point F0 = 1.5, Δ = 3, T = 0.3 so both counted jumps a and a†
occur): ``ness`` is the Liouvillian assembly and :func:`steady_state` (SuperLU of the
bordered matrix), ``cumulants`` :func:`current_cumulants` on that state (one solve with the
same factorisation), and the whole ``kerr`` point (NESS + gap) without and with fluctuations.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

from ness_core import evaluate
from ness_core.models.asep import Rates, bond_weights, density_correlation, exact_generator
from ness_core.models.kerr import kerr_liouvillian, kerr_operators
from ness_core.solvers.lindblad_observables import charge_transfer, current_cumulants
from ness_core.solvers.lindblad_steady_state import steady_state

REPEATS = 3
RHO_LEFT, RHO_RIGHT, Q = 0.9, 0.1, math.exp(-1.0)
KERR = {"drive": 1.5, "detuning": 3.0, "U0": 1.0, "kappa": 1.0, "N": 1.0, "temperature": 0.3,
        "omega0": 1.0}
KERR_CUTOFFS = (80, 120)


def best_time(task: Callable[[], object]) -> float:
    """Smallest wall time of ``REPEATS`` calls (seconds)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(L: int, method: str) -> dict[str, float]:
    rates = Rates(q=Q, alpha=RHO_LEFT, gamma=(1 - RHO_LEFT) * Q, beta=1 - RHO_RIGHT,
                  delta=RHO_RIGHT * Q)
    fresh = iter([exact_generator(L, rates) for _ in range(REPEATS)])
    ness = best_time(lambda: next(fresh).stationary(method=method))
    generator = exact_generator(L, rates)
    weight = bond_weights(generator, L)
    state = generator.stationary(method=method)  # keeps the minor (and its LU) for cumulants
    out = {
        "ness": ness,
        "cumulants": best_time(lambda: generator.current_cumulants(weight, state)),
        "correlation": best_time(lambda: density_correlation(state.probabilities, L)),
    }
    if method == "auto":
        params = {"L": L, "q": Q, "rho_left": RHO_LEFT, "rho_right": RHO_RIGHT}
        out["point"] = best_time(lambda: evaluate("asep", **params))
        out["point_fluct"] = best_time(lambda: evaluate("asep", fluctuations=True, **params))
        result = evaluate("asep", fluctuations=True, **params)
        out["tur_ratio"] = result["tur_ratio"]
    return out


def measure_kerr(cutoff: int) -> dict[str, float]:
    hamiltonian, jumps, number = kerr_operators(KERR, cutoff)
    weights = [-charge_transfer(j, number.diagonal()) for j in jumps]

    def ness():
        liouvillian = kerr_liouvillian(hamiltonian, jumps)
        return liouvillian, steady_state(liouvillian, method="direct")

    liouvillian, state = ness()
    params = {**KERR, "fock_cutoff": cutoff}
    return {
        "ness": best_time(ness),
        "cumulants": best_time(lambda: current_cumulants(liouvillian, state, jumps, weights)),
        "point": best_time(lambda: evaluate("kerr", **params)),
        "point_fluct": best_time(lambda: evaluate("kerr", fluctuations=True, **params)),
        "fano": evaluate("kerr", fluctuations=True, **params)["fano_factor"],
    }


def main(sizes: list[int]) -> None:
    print(f"{'L':>3} {'stationary':<10} {'ness s':>8} {'cumul. s':>9} {'corr. s':>8} "
          f"{'cumul./ness':>11} {'point s':>8} {'+fluct s':>9} {'overhead':>9}  TUR ratio")
    for L in sizes:
        for method in ("auto", "direct"):
            if method == "direct" and L > 14:
                continue  # LU fill of the 2^L hypercube: 14 s already at L = 14
            r = measure(L, method)
            row = (f"{L:>3} {method:<10} {r['ness']:>8.3f} {r['cumulants']:>9.3f} "
                   f"{r['correlation']:>8.3f} {r['cumulants'] / r['ness']:>11.2f}")
            if method == "auto":
                overhead = r["point_fluct"] / r["point"] - 1
                row += (f" {r['point']:>8.2f} {r['point_fluct']:>9.2f} {overhead:>8.0%}"
                        f"  {r['tur_ratio']:.4f}")
            print(row, flush=True)
    print(f"\n{'kerr cutoff':>11} {'ness s':>8} {'cumul. s':>9} {'cumul./ness':>11} "
          f"{'point s':>8} {'+fluct s':>9} {'overhead':>9}  Fano factor")
    for cutoff in KERR_CUTOFFS:
        r = measure_kerr(cutoff)
        overhead = r["point_fluct"] / r["point"] - 1
        print(f"{cutoff:>11} {r['ness']:>8.3f} {r['cumulants']:>9.3f} "
              f"{r['cumulants'] / r['ness']:>11.2f} {r['point']:>8.2f} {r['point_fluct']:>9.2f} "
              f"{overhead:>8.0%}  {r['fano']:.4f}", flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [12, 16])
