"""Cost of one two-site gate with truncation: ness_core's OperatorChain against quimb and TeNPy.

Run by hand (quimb and physics-tenpy are benchmark-only dependencies, not project
requirements; a library that is not installed gets a dash)::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_gates.py

Every side sweeps a random 16 × 16 gate right and back over a 12-site chain of local
dimension 4 (the operator basis of a spin-1/2) at bond dimension ≤ χ, truncating back to χ
after every gate, after warm-up sweeps:

- ours: :meth:`OperatorChain.apply_gate` (real, orthogonality centre on the gate, gesdd);
- quimb: ``MatrixProductState.gate_split_`` (real);
- TeNPy, the steps of its ``TEBDEngine.update_bond``: ``get_theta``, the gate contracted
  on, ``svd_theta`` truncation, the new tensors set; complex, in the basis (1, σᶻ, σ⁺, σ⁻)
  where the XXZ Liouvillian conserves the superoperator charge [S^z_tot, ·] (charges 0, 0,
  +2, −2 in units of 1/2), once with that U(1) charge (block-sparse tensors, the gate zero
  between different total charges) and once without.

Printed: milliseconds per gate of each side and each library's time ÷ ours.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ness_core.solvers import mps

SITES = 12
SWEEPS = 5
WARM_UP = 3
BONDS = (16, 32, 64, 128, 256)


def per_gate(apply: Callable[[int, bool], None], bonds: int) -> float:
    """Seconds per gate of ``apply(bond, to_right)`` over ``SWEEPS`` sweeps right and back,
    after ``WARM_UP`` sweeps."""
    def sweep() -> None:
        for b in range(bonds):
            apply(b, True)
        for b in range(bonds - 1, -1, -1):
            apply(b, False)
    for _ in range(WARM_UP):
        sweep()
    start = time.perf_counter()
    for _ in range(SWEEPS):
        sweep()
    return (time.perf_counter() - start) / (SWEEPS * 2 * bonds)


def ours(gate: np.ndarray, chi: int, rng: np.random.Generator) -> float:
    shapes = [(1 if j == 0 else chi, 4, 1 if j == SITES - 1 else chi) for j in range(SITES)]
    chain = mps.OperatorChain([rng.normal(size=s) for s in shapes])
    chain.move_centre(SITES - 1)
    chain.move_centre(0)
    return per_gate(lambda b, right: chain.apply_gate(b, gate, right, chi, 1e-14), SITES - 1)


def quimb(gate: np.ndarray, chi: int) -> float:
    import quimb.tensor as qtn

    state = qtn.MPS_rand_state(SITES, bond_dim=chi, phys_dim=4, dtype="float64")
    state.canonicalize_(0)
    return per_gate(lambda b, right: state.gate_split_(gate, (b, b + 1), max_bond=chi,
                                                       cutoff=1e-14), SITES - 1)


def tenpy(chi: int, conserve: bool, rng: np.random.Generator) -> float:
    from tenpy.algorithms.truncation import svd_theta
    from tenpy.linalg import np_conserved as npc
    from tenpy.networks.mps import MPS
    from tenpy.networks.site import Site

    if conserve:
        leg = npc.LegCharge.from_qflat(npc.ChargeInfo([1], ["2Sz"]), [[0], [0], [2], [-2]])
    else:
        leg = npc.LegCharge.from_trivial(4)
    site = Site(leg, ["I", "Z", "P", "M"])  # sorts its basis by charge
    leg = site.leg
    charge = leg.to_qflat().ravel() if conserve else np.zeros(4, int)
    total = np.add.outer(charge, charge).ravel()
    matrix = rng.normal(size=(16, 16)) + 1j * rng.normal(size=(16, 16))
    matrix[total[:, None] != total[None, :]] = 0.0
    gate = npc.Array.from_ndarray(matrix.reshape(4, 4, 4, 4),
                                  [leg, leg, leg.conj(), leg.conj()],
                                  labels=["p0", "p1", "p0*", "p1*"])
    psi = MPS.from_product_state([site] * SITES, ["I"] * SITES, dtype=complex,
                                 unit_cell_width=SITES)
    trunc = {"chi_max": chi, "svd_min": 1e-14}

    def apply(i: int, _: bool) -> None:
        theta = psi.get_theta(i, 2)
        theta = npc.tensordot(gate, theta, axes=(["p0*", "p1*"], ["p0", "p1"]))
        theta.itranspose(["vL", "p0", "p1", "vR"])
        theta = theta.combine_legs([["vL", "p0"], ["p1", "vR"]])
        u, s, v, _, _ = svd_theta(theta, trunc)
        psi.set_SR(i, s)
        psi.set_B(i, u.split_legs(0).ireplace_label("p0", "p"), form="A")
        psi.set_B(i + 1, v.split_legs(1).ireplace_label("p1", "p"), form="B")

    return per_gate(apply, SITES - 1)


def optional(run: Callable[[], float]) -> float | None:
    try:
        return run()
    except ImportError:
        return None


def main() -> None:
    rng = np.random.default_rng(0)
    gate = rng.normal(size=(16, 16))
    print("| χ | ours ms/gate | quimb ms/gate (÷ ours) | TeNPy U(1) ms/gate (÷ ours) | "
          "TeNPy no charge ms/gate (÷ ours) |")
    print("|---|---|---|---|---|")
    for chi in BONDS:
        base = ours(gate, chi, rng)
        cells = [optional(lambda c=chi: quimb(gate, c)),
                 optional(lambda c=chi: tenpy(c, True, rng)),
                 optional(lambda c=chi: tenpy(c, False, rng))]
        text = ["–" if t is None else f"{t * 1e3:.2f} ({t / base:.1f})" for t in cells]
        print(f"| {chi} | {base * 1e3:.2f} | " + " | ".join(text) + " |", flush=True)


if __name__ == "__main__":
    main()
