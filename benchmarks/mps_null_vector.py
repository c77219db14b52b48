"""A candidate for issue 21's long chains, measured and not adopted: the XXZ steady state as
the Liouvillian's null vector, found two sites at a time (non-Hermitian DMRG), with no time
evolution and hence no relaxation time.

Run by hand::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_null_vector.py \
        --length 8 --anisotropy 0 --drive 0.2 --max-bond 16 [--sweeps 6] [--enrich-sweeps 6]

Method. L is the MPO of the bond generators (``mps_linear_response.bond_mpo``, full drive μ).
With the chain's other tensors the isometries P, the two-site tensor θ solves the projected
null-vector problem Pᵀ L P θ = 0. Trace preservation, tᵀ L = 0 with t = (√2, 0, 0, 0)^{⊗L},
carries over to the projection exactly when t lies in the span of P: then τ = Pᵀt is a left
null vector of M = PᵀLP and θ solves the bordered system (M + τ τᵀ) θ = τ (dense, M formed
explicitly: two-site spaces up to 16χ² = 4096 at χ = 16). Every split keeps t in the span:
the isometric factor is augmented by the component of the local trace vector it misses
(one extra direction at most). Start: the first order of the linear magnetisation profile,
1 + μ Σ_j (1 − 2j/(L − 1)) σᶻ_j (bond dimension 2, t in its span). During the first
``--enrich-sweeps`` sweeps the isometric factor is padded with random orthonormal
directions up to χ (``mps_linear_response.enrich``): without it the bond dimension never
grows (L = 4 at χ = 64 stays at χ = 5 on a spurious projected fixed point with no current).

Printed per sweep: wall seconds, χ reached, ‖τᵀM‖ at the middle bond (0: the projected
problem keeps the trace), the middle-bond current, the bond currents' spread relative to it
and the largest weight dropped; at the end the error against the exact solver (L ≤ 10) and,
for the XX chain, against the closed form 16μΓ/(16 + Γ²).

Measured (2026-12-04, benchmarks/README.md): exact when χ holds the state (L = 4, χ = 64:
one sweep, 1e-15; L = 6, Δ_z = 1.5, μ = 0.05, χ = 64: two sweeps, 10 s, to all digits),
unusable when it truncates: the XX chain at L = 8, μ = 0.2 is 24 % off after 6 sweeps at
χ = 8 (between 0.76 and 0.98 of the closed form over the sweeps) and 2.0e-3 off (spread
5.8e-3, 60 s) at χ = 16, though the last sweeps drop only 6e-8 of the weight per cut; at
L = 10, μ = 0.05, χ = 8 the current wanders between 0.07 and 1.0 of the closed form over 12
sweeps (39 % off at the end). The projected problems of a
truncated chain have stationary states that the full problem does not.

References: J. Cui, J. I. Cirac, M. C. Bañuls, Phys. Rev. Lett. 114, 220601 (2015);
E. Mascarenhas, H. Flayac, V. Savona, Phys. Rev. A 92, 022116 (2015) (non-Hermitian DMRG for
steady states).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from mps_linear_response import _Environments, bond_mpo, enrich, site_sum_state

import ness_core
from ness_core.models import xxz
from ness_core.solvers import mps

E0 = np.array([1.0, 0.0, 0.0, 0.0])  # the identity's direction in the Pauli basis
SPAN_RTOL = 1e-10  # a trace direction shorter than this outside the isometry is in its span


class _Sweep(_Environments):
    """The operator environments of ``mps_linear_response`` on the chain itself (Galerkin:
    ``double_left[j]`` contracts sites < j, (input bond, MPO bond, output bond),
    ``double_right[j]`` sites ≥ j) and its trace vectors t contracted over sites < j
    (``trace_left[j]``) and > j + 1 (``trace_right[j + 2]``)."""

    def __init__(self, chain: mps.OperatorChain, mpo: list[np.ndarray]):
        chain.move_centre(0)
        super().__init__(chain.tensors, mpo, chain.tensors, E0, galerkin=True)

    def solve_bond(self, j: int) -> tuple[np.ndarray, float, tuple[int, ...]]:
        """θ of (M + ττᵀ)θ = τ on sites j, j+1, ‖τᵀM‖ and θ's shape."""
        le, re = self.double_left[j], self.double_right[j + 2]
        shape = (le.shape[0], 4, 4, re.shape[0])
        n = int(np.prod(shape))
        m = np.einsum("apA,pstm,muvP,bPB->AsuBatvb", le, self.mpo[j], self.mpo[j + 1], re,
                      optimize=True).reshape(n, n)
        tau = np.einsum("a,s,u,b->asub", self.trace_left[j], E0, E0,
                        self.trace_right[j + 2]).ravel()
        tau /= np.linalg.norm(tau)
        theta = np.linalg.solve(m + np.outer(tau, tau), tau)
        return theta, float(np.linalg.norm(tau @ m)), shape


def keep_trace(x: np.ndarray, y: np.ndarray, to_right: bool, trace: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """Add the part of ``trace`` outside the isometric factor's span as one more direction
    (θ = X Y unchanged)."""
    iso = x if to_right else y.T
    rest = trace - iso @ (iso.T @ trace)
    size = float(np.linalg.norm(rest))
    if size <= SPAN_RTOL * float(np.linalg.norm(trace)):
        return x, y
    rest /= size
    if to_right:
        return np.hstack([x, rest[:, None]]), np.vstack([y, np.zeros((1, y.shape[1]))])
    return np.hstack([x, np.zeros((x.shape[0], 1))]), np.vstack([y, rest[None, :]])


def null_vector(length: int, anisotropy: float, drive: float, max_bond: int, sweeps: int,
                enrich_sweeps: int) -> np.ndarray:
    """Run the sweeps, printing one line each; returns the last bond currents."""
    basis = mps.pauli_basis(2)
    params = {"L": length, "drive": drive, "anisotropy": anisotropy, "coupling": 1.0}
    mpo = bond_mpo(xxz.mps_generators(params, basis), 4)
    trace = mps.operator_vector(np.eye(2), basis)
    x, y = xxz.SIGMA_X.toarray(), xxz.SIGMA_Y.toarray()
    current = mps.operator_vector(2.0 * (np.kron(x, y) - np.kron(y, x)), basis)
    profile = [np.array([0.0, 0.0, 0.0, drive * (1 - 2 * j / (length - 1))])
               for j in range(length)]
    chain = site_sum_state(profile, E0)
    sweep = _Sweep(chain, mpo)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    bonds = np.zeros(length - 1)
    for k in range(1, sweeps + 1):
        chain.discarded = 0.0
        order = [(j, True) for j in range(length - 2)] + \
                [(j, False) for j in range(length - 2, -1, -1)]
        middle_leak = np.nan
        for j, to_right in order:
            theta, leak, shape = sweep.solve_bond(j)
            if j == length // 2 - 1:
                middle_leak = leak
            xf, yf, dropped = mps.split(theta.reshape(shape[0] * 4, -1), to_right, max_bond,
                                        1e-14)
            chain.discarded = max(chain.discarded, dropped)
            if k <= enrich_sweeps:
                xf, yf = enrich(xf, yf, to_right, max_bond, rng)
            local = (np.kron(sweep.trace_left[j], E0) if to_right
                     else np.kron(E0, sweep.trace_right[j + 2]))
            xf, yf = keep_trace(xf, yf, to_right, local)
            chain.tensors[j] = xf.reshape(shape[0], 4, -1)
            chain.tensors[j + 1] = yf.reshape(-1, 4, shape[3])
            if to_right:
                chain.centre = j + 1
                sweep.update_left(j)
            else:
                chain.centre = j
                sweep.update_right(j + 1)
        _, bond_values = chain.expectations(trace, [], [current])
        bonds = bond_values[0]
        mid = bonds[length // 2 - 1]
        print(f"sweep {k}: {time.perf_counter() - start:.1f} s, χ {chain.bond_dimension}, "
              f"‖τᵀM‖ {middle_leak:.1e}, J {mid:.10g}, spread {np.ptp(bonds) / abs(mid):.1e}"
              f", dropped {chain.discarded:.1e}", flush=True)
    return bonds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=8)
    parser.add_argument("--anisotropy", type=float, default=0.0)
    parser.add_argument("--drive", type=float, default=0.2)
    parser.add_argument("--max-bond", type=int, default=16)
    parser.add_argument("--sweeps", type=int, default=6)
    parser.add_argument("--enrich-sweeps", type=int, default=6)
    args = parser.parse_args()
    bonds = null_vector(args.length, args.anisotropy, args.drive, args.max_bond, args.sweeps,
                        args.enrich_sweeps)
    mid = bonds[args.length // 2 - 1]
    if args.length <= xxz.MAX_SITES:
        exact = ness_core.evaluate("xxz", L=args.length, drive=args.drive,
                                   anisotropy=args.anisotropy, method="exact",
                                   gap_sectors="none")["current"]
        print(f"exact J {exact:.10g}: relative error {mid / exact - 1:.1e}")
    if args.anisotropy == 0:
        closed = 16 * args.drive / 17
        print(f"closed form 16μΓ/(16 + Γ²) = {closed:.10g}: relative error {mid / closed - 1:.1e}")


if __name__ == "__main__":
    main()
