"""The time step of ``xxz`` ``method: mps``, measured and not adopted: the plain second-order
sweep at three step lengths against the fourth-order step in use, side by side.

Run by hand::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_step_order.py \
        --length 6 --anisotropy 1.5 --drive 0.3 --max-bond 64 --time-step 0.1 [--tolerance 1e-6]

In use (:func:`ness_core.solvers.mps.evolve_to_steady_state`): a step is Suzuki's fourth-order
composition of five symmetric sweeps, converged at τ and τ/2, extrapolated as
(16 f(τ/2) − f(τ))/15. Candidate: a step is one symmetric sweep (second order, error series
even in τ), converged at τ, τ/2 and τ/4 (each stage from the last), extrapolated as
(64 f(τ/4) − 20 f(τ/2) + f(τ))/45; the same stage test
(:func:`ness_core.solvers.mps.evolve_stage`, stall detection included). A sweep costs a fifth
of a fourth-order step.

Printed: each scheme's wall seconds, sweeps, evolution time, stalls, and the error of the
middle-bond current against the exact solver (L ≤ 10), Prosen's closed form (Δ_z = 1, μ = 1,
tests/prosen_xxx.py) or the XX chain's 16μΓ/(16 + Γ²).

Verdict (benchmarks/README.md, docs/matrix-product.md): where χ holds the state, the
candidate is 1.2–4.1× faster at the same τ and as accurate; where the chain truncates it
stalls (Prosen's chain at L = 10, χ = 64, τ = 0.4 and 0.2) while the fourth-order step
converges with truncations of 4e-11: the fixed point's τ² error term needs bond dimension
the steady state does not.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import ness_core
from ness_core.models import xxz
from ness_core.solvers import mps

SECOND_ORDER = (1.0,)  # one symmetric sweep per step
RICHARDSON_3 = np.array([1.0, -20.0, 64.0]) / 45.0  # removes τ² and τ⁴ from f(τ), f(τ/2), f(τ/4)


def reference_current(length: int, anisotropy: float, drive: float) -> float:
    """The exact current: closed forms where known, else the exact solver (L ≤ 10)."""
    if anisotropy == 0:
        return 16 * drive / 17
    if anisotropy == 1 and drive == 1:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        import prosen_xxx
        return prosen_xxx.xxx_current(length, 1.0)
    if length <= xxz.MAX_SITES:
        return ness_core.evaluate("xxz", L=length, drive=drive, anisotropy=anisotropy,
                                  method="exact", gap_sectors="none")["current"]
    return math.nan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=6)
    parser.add_argument("--anisotropy", type=float, default=1.5)
    parser.add_argument("--drive", type=float, default=0.3)
    parser.add_argument("--max-bond", type=int, default=64)
    parser.add_argument("--time-step", type=float, default=0.1)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    parser.add_argument("--max-time", type=float, default=2e4)
    args = parser.parse_args()
    length, tau = args.length, args.time_step
    params = {"L": length, "drive": args.drive, "anisotropy": args.anisotropy, "coupling": 1.0}
    exact = reference_current(length, args.anisotropy, args.drive)
    basis = mps.pauli_basis(2)
    observe, scale = xxz.mps_observers(length, basis)
    generators = xxz.mps_generators(params, basis)
    middle = length // 2 - 1

    def start() -> mps.OperatorChain:
        return xxz.mps_start(length, args.drive)

    fourth = mps.SUZUKI_STEPS
    begin = time.perf_counter()
    result = mps.evolve_to_steady_state(start(), generators, observe, scale, tau,
                                        args.tolerance, args.max_time, args.max_bond)
    wall = time.perf_counter() - begin
    print(f"fourth order, τ and τ/2: {wall:.1f} s, {result.steps * len(fourth)} sweeps, "
          f"t = {result.time:.0f}, converged {result.converged}, stalled {result.stalled}, "
          f"truncation {result.discarded:.1e}, J error {result.values[middle] / exact - 1:.1e}",
          flush=True)
    mps.SUZUKI_STEPS = SECOND_ORDER
    try:
        chain, stages, budget = start(), [], args.max_time
        begin = time.perf_counter()
        for step in (tau, tau / 2, tau / 4):
            chain.discarded = 0.0
            stage = mps.evolve_stage(chain, mps.step_gates(generators, step), step, observe,
                                     scale, args.tolerance, 2.0, budget, args.max_bond, 1e-14)
            stages.append(stage)
            budget -= stage.time
            if not stage.converged:
                break
        wall = time.perf_counter() - begin
    finally:
        mps.SUZUKI_STEPS = fourth
    done = len(stages) == 3 and stages[-1].converged
    values = RICHARDSON_3 @ np.array([s.values for s in stages]) if done else stages[-1].values
    print(f"second order, τ, τ/2, τ/4: {wall:.1f} s, {sum(s.steps for s in stages)} sweeps, "
          f"t = {sum(s.time for s in stages):.0f}, converged {done}, stalled "
          f"{any(s.stalled for s in stages)}, truncation {chain.discarded:.1e}, J error "
          f"{values[middle] / exact - 1:.1e}")


if __name__ == "__main__":
    main()
