"""How much bond dimension the XXZ steady state needs: the current of the exact NESS after
its best truncation to bond dimension χ, with and without a reference state subtracted.

Run by hand::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps_truncation.py \
        [--lengths 6 8] [--anisotropy 1.5 1.0 0.5 0.0] [--drive 0.05] [--bonds 8 16 32 64]

The exact steady state ρ of ``xxz`` (the Liouvillian's q = 0 block, ``method: exact``) is
written in the Pauli basis of :mod:`ness_core.solvers.mps` and cut to bond dimension χ by
successive truncated SVDs from the left (the TT-SVD; within √(L − 1) of the best χ-MPS in the
Hilbert–Schmidt norm). Four ways are compared, each by the relative error of the
middle-bond current Tr(J ρ_χ)/Tr ρ_χ against the exact one:

- ``rho``: ρ itself (what the time evolution truncates);
- ``rho-id``: ρ − c₀ 1/2^L, the identity part (exact) added back after the cut;
- ``rho-lin``: ρ − ρ_lin, ρ_lin the product state with the linear magnetisation profile
  μ … −μ (the evolution's start), scaled to ρ's identity coefficient;
- ``rho1``: the linear response ρ₁ = ∂ρ/∂μ at μ = 0 (central difference of exact steady
  states at μ = ±1e-4), cut alone, its current compared with the exact ∂J/∂μ.

Also printed: the middle cut's Schmidt values of ρ and of ρ₁, relative to their norm (every
fourth). If subtracting a reference or linearising helped, the last three columns would fall
below the first; the measured rows are in benchmarks/README.md.

With ``--prosen 16 32 64``: for Prosen's exact state at Δ_z = 1, μ = 1, Γ = 1
(tests/prosen_xxx.py, ρ = SS† with S of bond dimension D = ⌊L/2⌋ + 1), the number of the
middle cut's Schmidt values of ρ's Pauli coefficients (D² at most) above 1e-3 … 1e-10 of
their norm: the bond dimension the matrix-product solver needs there, for lengths past the
exact solver.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from ness_core.models import xxz
from ness_core.solvers import mps
from ness_core.solvers.lindblad_steady_state import steady_state

BASIS = mps.pauli_basis(2)
TRACE = mps.operator_vector(np.eye(2), BASIS)
CURRENT = mps.operator_vector(2.0 * (np.kron(xxz.SIGMA_X.toarray(), xxz.SIGMA_Y.toarray())
                                     - np.kron(xxz.SIGMA_Y.toarray(), xxz.SIGMA_X.toarray())),
                              BASIS)
DIFFERENCE_STEP = 1e-4
PROSEN_THRESHOLDS = (1e-3, 1e-4, 1e-6, 1e-8, 1e-10)


def exact_coefficients(length: int, mu: float, anisotropy: float) -> np.ndarray:
    """Pauli coefficients c_{μ_1…μ_L} = Tr(P_{μ_1}⊗…⊗P_{μ_L} ρ) of the exact NESS,
    shape (4,)*L."""
    params = {"L": length, "drive": mu, "anisotropy": anisotropy, "coupling": 1.0}
    hamiltonian, baths = xxz.xxz_operators(params)
    blocks = xxz.xxz_blocks(hamiltonian, [j for b in baths for j in b], length, "none")
    rho = steady_state(blocks[0], method=xxz.block_solver(blocks[0])).rho
    perm = [axis for j in range(length) for axis in (j, length + j)]
    coefficients = rho.reshape([2] * (2 * length)).transpose(perm).reshape([4] * length)
    projector = BASIS.transpose(0, 2, 1).reshape(4, 4)  # row μ: P_μ[b, a] at index 2a + b
    for j in range(length):
        coefficients = np.moveaxis(np.tensordot(projector, coefficients, axes=(1, j)), 0, j)
    return coefficients.real


def truncated(coefficients: np.ndarray, chi: int) -> np.ndarray:
    """The TT-SVD of ``coefficients`` with bond dimension ≤ ``chi``, contracted back."""
    length = coefficients.ndim
    out, rest = None, coefficients.reshape(1, -1)
    for _ in range(length - 1):
        u, s, vt = np.linalg.svd(rest.reshape(rest.shape[0] * 4, -1), full_matrices=False)
        keep = min(chi, s.size)
        factor = u[:, :keep]
        out = factor if out is None else (out @ factor.reshape(out.shape[1], -1)).reshape(
            -1, keep)
        rest = s[:keep, None] * vt[:keep]
    return (out @ rest).reshape([4] * length)


def middle_current(coefficients: np.ndarray) -> float:
    """Tr(J ρ)/Tr ρ on the bond (⌊L/2⌋, ⌊L/2⌋+1)."""
    length = coefficients.ndim
    middle = length // 2 - 1
    numerator, denominator = coefficients, coefficients
    for j in range(length - 1, -1, -1):
        denominator = np.tensordot(denominator, TRACE, axes=(j, 0))
        if j == middle:
            numerator = np.tensordot(numerator, CURRENT, axes=([j, j + 1], [0, 1]))
        elif j != middle + 1:
            numerator = np.tensordot(numerator, TRACE, axes=(j, 0))
    return float(numerator) / float(denominator)


def middle_schmidt(coefficients: np.ndarray) -> np.ndarray:
    length = coefficients.ndim
    s = np.linalg.svd(coefficients.reshape(4 ** (length // 2), -1), compute_uv=False)
    return s / np.linalg.norm(s)


def prosen_middle_schmidt(length: int) -> np.ndarray:
    """Middle-cut Schmidt values (relative to their norm) of the Pauli coefficients of
    Prosen's ρ = SS† at Γ = 1: the site tensor Σ_{a,b,c} P_μ[c, a] A_{ab} ⊗ conj(A_{cb}) over
    the doubled auxiliary space, boundary ⟨0, 0| … |0, 0⟩, brought to canonical form by QR
    from both ends (rescaled, so no overflow at L = 64)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    import prosen_xxx

    a = prosen_xxx.lax_components(length, 1.0)
    dim = a.shape[-1]
    pair = np.einsum("abrq,cbsp->rsacqp", a, a.conj())
    site = np.einsum("mca,rsacqp->rsmqp", BASIS, pair).reshape(dim * dim, 4, dim * dim)
    middle = length // 2
    left = np.ones((1, 1))
    for j in range(middle):
        t = np.tensordot(left, site[:1] if j == 0 else site, axes=(1, 0))
        left = np.linalg.qr(t.reshape(-1, t.shape[2]))[1]
        left /= np.abs(left).max()
    right = np.ones((1, 1))
    for j in range(length - 1, middle - 1, -1):
        t = np.tensordot(site[:, :, :1] if j == length - 1 else site, right, axes=(2, 0))
        right = np.linalg.qr(t.reshape(t.shape[0], -1).T)[1].T
        right /= np.abs(right).max()
    s = np.linalg.svd(left @ right, compute_uv=False)
    return s / np.linalg.norm(s)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[6, 8])
    parser.add_argument("--anisotropy", type=float, nargs="+", default=[1.5, 1.0, 0.5, 0.0])
    parser.add_argument("--drive", type=float, default=0.05)
    parser.add_argument("--bonds", type=int, nargs="+", default=[8, 16, 32, 64, 128, 256])
    parser.add_argument("--prosen", type=int, nargs="+", default=[])
    args = parser.parse_args()
    if args.prosen:
        print("| L | D² | " + " | ".join(f"> {t:g}" for t in PROSEN_THRESHOLDS) + " |")
        for length in args.prosen:
            s = prosen_middle_schmidt(length)
            counts = [str(int(np.count_nonzero(s > t))) for t in PROSEN_THRESHOLDS]
            print(f"| {length} | {(length // 2 + 1) ** 2} | " + " | ".join(counts) + " |")
        return
    mu = args.drive
    for anisotropy in args.anisotropy:
        for length in args.lengths:
            rho = exact_coefficients(length, mu, anisotropy)
            origin = (0,) * length
            identity = np.zeros_like(rho)
            identity[origin] = rho[origin]
            linear = None
            for j in range(length):
                site = np.array([1.0, 0.0, 0.0, mu * (1 - 2 * j / (length - 1))])
                linear = site if linear is None else np.multiply.outer(linear, site)
            linear *= rho[origin] / linear[origin]
            response = (exact_coefficients(length, DIFFERENCE_STEP, anisotropy)
                        - exact_coefficients(length, -DIFFERENCE_STEP, anisotropy)) / (
                            2 * DIFFERENCE_STEP)
            current = middle_current(rho)
            slope = middle_current(identity + response)
            print(f"\nL = {length}, Δ_z = {anisotropy:g}, μ = {mu:g}: J = {current:.10g}, "
                  f"∂J/∂μ = {slope:.10g}")
            for name, values in (("rho", rho), ("rho1", response)):
                schmidt = middle_schmidt(values)[:64:4]
                print(f"  Schmidt values of {name} (every 4th): "
                      + " ".join(f"{v:.1e}" for v in schmidt))
            print("  | χ | rho | rho-id | rho-lin | rho1 |")
            for chi in args.bonds:
                if chi > 4 ** (length // 2):
                    break
                errors = [middle_current(truncated(rho - ref, chi) + ref) / current - 1
                          for ref in (0 * rho, identity, linear)]
                errors.append(middle_current(identity + truncated(response, chi)) / slope - 1)
                print(f"  | {chi} | " + " | ".join(f"{abs(e):.1e}" for e in errors) + " |",
                      flush=True)


if __name__ == "__main__":
    main()
