"""Cost of one two-site gate with truncation: ness_core's OperatorChain against quimb.

Run by hand (quimb is a benchmark-only dependency, not a project requirement)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_gates.py

Both sides sweep the same random 16 × 16 gate right and back over an 8-site chain of local
dimension 4 (the Pauli basis of a spin-1/2) at fixed bond dimension χ, truncating back to χ
after every gate: ours with :meth:`OperatorChain.apply_gate` (orthogonality centre kept on the
gate, truncated SVD by gesdd), quimb with ``MatrixProductState.gate_split_``
(after one warm-up sweep). Printed: milliseconds per gate and the ratio quimb ÷ ours.
"""

from __future__ import annotations

import time

import numpy as np
import quimb.tensor as qtn

from ness_core.solvers import mps

SITES = 8
SWEEPS = 20


def per_gate(apply, bonds: int) -> float:
    """Seconds per gate of ``apply(bond, to_right)`` over ``SWEEPS`` sweeps right and back."""
    start = time.perf_counter()
    for _ in range(SWEEPS):
        for b in range(bonds):
            apply(b, True)
        for b in range(bonds - 1, -1, -1):
            apply(b, False)
    return (time.perf_counter() - start) / (SWEEPS * 2 * bonds)


def main() -> None:
    rng = np.random.default_rng(0)
    gate = rng.normal(size=(16, 16))
    print("| χ | ours ms/gate | quimb ms/gate | quimb ÷ ours |")
    print("|---|---|---|---|")
    for chi in (16, 32, 64):
        shapes = [(1 if j == 0 else chi, 4, 1 if j == SITES - 1 else chi) for j in range(SITES)]
        chain = mps.OperatorChain([rng.normal(size=s) for s in shapes])
        chain.move_centre(SITES - 1)
        chain.move_centre(0)
        ours = per_gate(lambda b, right, c=chain, k=chi: c.apply_gate(b, gate, right, k, 1e-14),
                        SITES - 1)
        state = qtn.MPS_rand_state(SITES, bond_dim=chi, phys_dim=4, dtype="float64")
        state.canonicalize_(0)
        for b in range(SITES - 1):  # warm-up: quimb compiles its contraction paths once
            state.gate_split_(gate, (b, b + 1), max_bond=chi, cutoff=1e-14)
        theirs = per_gate(lambda b, right, q=state, k=chi: q.gate_split_(
            gate, (b, b + 1), max_bond=k, cutoff=1e-14), SITES - 1)
        print(f"| {chi} | {ours * 1e3:.2f} | {theirs * 1e3:.2f} | {theirs / ours:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
