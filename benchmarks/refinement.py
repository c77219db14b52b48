"""Points needed to locate the Kerr gap minimum: adaptive refinement against uniform grids.

For N = 1…6 (the kerr_gap_closing study of config/quantum.yaml: Δ = 3, U0 = κ = 1, T = 0,
F0 ∈ [0.5, 2.5]) the reference minimum g* is scipy's bounded Brent search (xatol 1e-10) on
the model's gap. Refinement (ness_core.refinement.refine_function, the pipeline's
algorithm) starts from the 9-point coarse grid; its points and the achieved relative error
|g - g*|/g* are counted per tolerance. A uniform grid's best point misses the minimum by up
to c (h/2)²/2 (c the gap's curvature at F0*, by central differences): it needs
num = ceil((stop - start) / (2 sqrt(2 tol g*/c))) + 1 points to be sure of tol.

    OPENBLAS_NUM_THREADS=1 python benchmarks/refinement.py
"""

from __future__ import annotations

import math
import time

import numpy as np
import scipy.optimize

from ness_core.api import evaluate
from ness_core.refinement import refine_function

FIXED = {"detuning": 3.0, "U0": 1.0, "kappa": 1.0, "temperature": 0.0}
START, STOP, COARSE = 0.5, 2.5, 9
TOLERANCES = (1e-4, 1e-6, 1e-8)


def main() -> None:
    print("| N | F0* | g* | tol | refined points | rounds | achieved error | uniform points "
          "| ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for n in range(1, 7):
        def gap(drive, n=n):
            return evaluate("kerr", drive=drive, N=n, **FIXED)["gap"]

        coarse = np.linspace(START, STOP, COARSE)
        best = coarse[int(np.argmin([gap(x) for x in coarse]))]
        step = (STOP - START) / (COARSE - 1)
        ref = scipy.optimize.minimize_scalar(gap, bounds=(best - step, best + step),
                                             method="bounded", options={"xatol": 1e-10})
        g, x = ref.fun, ref.x
        d = 1e-3
        c = (gap(x + d) - 2 * g + gap(x - d)) / d**2
        for tol in TOLERANCES:
            status, xs, rounds = refine_function(gap, coarse, "minimum", tol, 200)
            error = abs(status.value - g) / g
            uniform = math.ceil((STOP - START) / (2 * math.sqrt(2 * tol * g / c))) + 1
            print(f"| {n} | {x:.8f} | {g:.8e} | {tol:g} | {len(xs)} | {rounds} | {error:.1e} "
                  f"| {uniform} | {uniform / len(xs):.0f} |", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
