"""Prosen's exact steady state of the maximally driven isotropic (XXX) chain: a test reference.

Independent of ``ness_core`` (numpy only), so that the chain's solvers — the Liouvillian
null vector and the matrix-product method — can be checked against it at L = 2 … 64.

Our convention (``ness_core.models.xxz``), L spins, local basis (|↑⟩, |↓⟩), σ⁺ = |↑⟩⟨↓|:

    H = Σ_j (σˣ_j σˣ_{j+1} + σʸ_j σʸ_{j+1} + Δ σᶻ_j σᶻ_{j+1})
      = Σ_j (2σ⁺_j σ⁻_{j+1} + 2σ⁻_j σ⁺_{j+1} + Δ σᶻ_j σᶻ_{j+1}),
    dρ/dt = −i[H, ρ] + Σ_k (L_k ρ L_k† − ½{L_k† L_k, ρ}),
    jumps √(Γ(1+μ)/2) σ⁺_1, √(Γ(1−μ)/2) σ⁻_1, √(Γ(1−μ)/2) σ⁺_L, √(Γ(1+μ)/2) σ⁻_L.

At maximal driving μ = ``drive`` = 1 only two jumps remain, √Γ σ⁺_1 (the left bath flips
spins up) and √Γ σ⁻_L (the right bath flips them down), so the current flows from site 1
to site L and is positive: J = ⟨2(σˣ_j σʸ_{j+1} − σʸ_j σˣ_{j+1})⟩
= 4i⟨σ⁺_j σ⁻_{j+1} − σ⁻_j σ⁺_{j+1}⟩ = −8 Im⟨σ⁺_j σ⁻_{j+1}⟩ on every bond, and by the
adjoint dissipator of √Γ σ⁺_1 acting on σᶻ_1 (which is 2Γ|↓⟩⟨↓|) also
J = Γ(1 − ⟨σᶻ_1⟩) = Γ(1 + ⟨σᶻ_L⟩).

Map to Prosen (2011). His Hamiltonian, H = Σ (2σ⁺σ⁻ + 2σ⁻σ⁺ + Δσᶻσᶻ), is ours term by
term (σˣσˣ + σʸσʸ = 2σ⁺σ⁻ + 2σ⁻σ⁺), and his two jumps √ε σ⁺_1, √ε σ⁻_n are the operators
of our μ = 1 baths, so μ = 1, Δ_z = Δ, L = n, and the current flows the same way. Rates:
his master equation is written with the dissipator Σ_k (2L_k ρ L_k† − {L_k† L_k, ρ}),
twice ours for the same L_k, which gives Γ = 2ε. That factor is the one statement here
taken from the paper's notation rather than checked by computation (the paper's text was
not at hand); everything below is stated and verified in our Γ, in which it does not
enter.

The steady state is ρ = S S† / tr(S S†) with S the matrix-product operator

    S = Σ_{a, b} ⟨0| A_{a_1 b_1} A_{a_2 b_2} ⋯ A_{a_L b_L} |0⟩ |a_1 … a_L⟩⟨b_1 … b_L|

over an auxiliary space with basis |0⟩, |1⟩, …: the SU(2) Lax operator of a non-unitary
(complex) spin s in its highest-weight representation, Sᶻ|r⟩ = (s − r)|r⟩,

    A_{↑↑} = Σ_r (s − r) |r⟩⟨r|,           A_{↓↓} = −A_{↑↑},
    A_{↑↓} = Σ_r (r + 1) |r⟩⟨r + 1|        (the σ⁺ component),
    A_{↓↑} = Σ_r (2s − r) |r + 1⟩⟨r|       (the σ⁻ component),

(A_{↑↓} A_{↓↑} − A_{↓↑} A_{↑↓} = 2A_{↑↑}: the sl₂ relations), with the spectral parameter at
zero and the spin fixed by the coupling,

    s = 4i/Γ   (s = 2i/ε with Γ = 2ε).

This is Prosen's isotropic solution in the Lax form of the later literature (Prosen 2015
review; Karevski, Popkov and Schütz 2013). Its constants here were not copied but found by
requiring the Liouvillian residual of ρ to vanish at L = 3 for Γ = 1 and 0.5 (least
squares over a complex spectral parameter φ and spin s from random starts: φ = 0 and
s = 4i/Γ to 1e-13, residual norm below 1e-12); tests/test_prosen_xxx.py checks ρ against
the dense Liouvillian null vector at L = 3, 4 and the current and profile against the
``xxz`` model's exact solver at L = 2 … 8. The orientation matters: with the σ⁺ component
raising the auxiliary index read from ⟨0| the ansatz fits, with it lowering the index it
does not (least residual norm 0.27 at Γ = 1, 0.075 at Γ = 0.5).

Truncation: reading the product from the left, each σ⁺ component raises the auxiliary
index by one, each σ⁻ component lowers it, and the diagonal ones keep it; the index starts
and ends at 0, so after k sites it is at most min(k, L − k) ≤ ⌊L/2⌋. Keeping |0⟩ … |⌊L/2⌋⟩
(dimension ⌊L/2⌋ + 1, 33 at L = 64) is exact, not an approximation.

Contraction: expectation values of ρ are ratios of transfer-matrix products over the
doubled auxiliary space, ⟨O⟩ = tr(O S S†) / tr(S S†), with left environments
E_k = Σ Aᵀ E_{k−1} Ā and right ones F_k = Σ A F_{k+1} A†; numerator and denominator share
E and F, so each environment is rescaled to unit norm as it is built (no overflow at
L = 64, where the auxiliary weights reach |2s − r| ≈ 32).

Known results: the current decays as L⁻² at Δ = 1 and maximal driving, and the profile
tends to a cosine (Prosen 2011); the tests fit the exponent. Measured with this module
(not asserted): Γ J L² = 76.65, 79.26, 79.50, 79.33 at L = 32, 64, 128, 256 for Γ = 1, and
79.40 (Γ = 2), 79.04 (Γ = 0.5) at L = 256, near 8π² = 78.96; the local exponent
d ln J / d ln L is −1.952 over L = 32–64 and −2.003 over 128–256 (Γ = 1).

References
----------
T. Prosen, Phys. Rev. Lett. 107, 137201 (2011) (exact NESS of the strongly driven XXZ chain,
conventions of H, jumps and dissipator above); T. Prosen, J. Phys. A 48, 373001 (2015)
(review: the Lax form); D. Karevski, V. Popkov, G. M. Schütz, Phys. Rev. Lett. 110, 047201
(2013).
"""

from __future__ import annotations

import numpy as np

UP, DOWN = 0, 1
SIGMA_Z = np.diag([1.0, -1.0])
MPS_COMPARISON_LENGTHS = (16, 24, 32, 48, 64)


def lax_spin(coupling: float) -> complex:
    """The auxiliary spin s = 4i/Γ of the steady state at coupling Γ (module docstring)."""
    return 4j / coupling


def lax_components(length: int, coupling: float) -> np.ndarray:
    """A[a, b] (shape (2, 2, D, D), D = ⌊L/2⌋ + 1): the auxiliary matrix multiplying the
    physical |a⟩⟨b| (a, b = 0 for ↑, 1 for ↓) in the truncated highest-weight Lax operator."""
    dim = length // 2 + 1
    s = lax_spin(coupling)
    r = np.arange(dim)
    a = np.zeros((2, 2, dim, dim), dtype=complex)
    a[UP, UP] = np.diag(s - r)
    a[DOWN, DOWN] = -a[UP, UP]
    a[UP, DOWN] = np.diag(r[1:].astype(complex), 1)        # |r⟩⟨r+1| · (r + 1)
    a[DOWN, UP] = np.diag(2 * s - r[:-1], -1)               # |r+1⟩⟨r| · (2s − r)
    return a


def mpo_operator(length: int, coupling: float) -> np.ndarray:
    """S as a dense 2^L × 2^L matrix (site 1 the most significant factor); small L only."""
    a = lax_components(length, coupling)
    dim = a.shape[-1]
    # rows (a_1 … a_k), columns (b_1 … b_k), auxiliary index last
    left = np.zeros((1, 1, dim), dtype=complex)
    left[0, 0, 0] = 1.0
    for _ in range(length):
        left = np.einsum("xyl,abld->xaybd", left, a).reshape(
            left.shape[0] * 2, left.shape[1] * 2, dim)
    return left[:, :, 0]


def steady_state_dense(length: int, coupling: float) -> np.ndarray:
    """ρ = S S† / tr(S S†) as a dense matrix (small L only)."""
    s = mpo_operator(length, coupling)
    rho = s @ s.conj().T
    return rho / np.trace(rho).real


def _site_transfer(a: np.ndarray, env: np.ndarray, op: np.ndarray, left: bool) -> np.ndarray:
    """One site of Σ_{x, x', y} op[x', x] (Aᵀ_{xy} E Ā_{x'y} from the left,
    A_{xy} F A†_{x'y} from the right); ``a`` may be a two-site block of shape (4, 4, D, D)."""
    out = np.zeros_like(env)
    for x in range(a.shape[0]):
        for xp in range(a.shape[0]):
            if op[xp, x] == 0:
                continue
            for y in range(a.shape[1]):
                if left:
                    out += op[xp, x] * (a[x, y].T @ env @ a[xp, y].conj())
                else:
                    out += op[xp, x] * (a[x, y] @ env @ a[xp, y].conj().T)
    return out


def _environments(a: np.ndarray, length: int, left: bool) -> list[np.ndarray]:
    """Unit-norm environments: index k holds sites 1 … k (left) or k+1 … L (right)."""
    dim = a.shape[-1]
    start = np.zeros((dim, dim), dtype=complex)
    start[0, 0] = 1.0
    envs = [start]
    identity = np.eye(2)
    for _ in range(length):
        nxt = _site_transfer(a, envs[-1], identity, left)
        envs.append(nxt / np.abs(nxt).max())
    return envs if left else envs[::-1]


def xxx_profile_and_currents(length: int, coupling: float) -> tuple[np.ndarray, np.ndarray]:
    """⟨σᶻ_j⟩ for j = 1 … L and the bond currents J_j, j = 1 … L−1, of the exact NESS at
    Δ = 1, μ = 1, coupling Γ (our conventions, module docstring)."""
    if length < 2:
        raise ValueError("the chain needs L >= 2 sites")
    a = lax_components(length, coupling)
    lefts = _environments(a, length, left=True)
    rights = _environments(a, length, left=False)
    identity = np.eye(2)
    profile = np.empty(length)
    for j in range(length):
        num = np.sum(_site_transfer(a, lefts[j], SIGMA_Z, True) * rights[j + 1])
        den = np.sum(_site_transfer(a, lefts[j], identity, True) * rights[j + 1])
        profile[j] = (num / den).real
    dim = a.shape[-1]
    pair = np.einsum("acij,bdjk->abcdik", a, a).reshape(4, 4, dim, dim)
    # 2(σˣσʸ − σʸσˣ) = 4i(σ⁺⊗σ⁻ − σ⁻⊗σ⁺); basis index 2 a_1 + a_2, ↑ = 0
    current_op = np.zeros((4, 4), dtype=complex)
    current_op[2 * UP + DOWN, 2 * DOWN + UP] = 4j        # σ⁺_j σ⁻_{j+1} = |↑↓⟩⟨↓↑|
    current_op[2 * DOWN + UP, 2 * UP + DOWN] = -4j
    currents = np.empty(length - 1)
    for j in range(length - 1):
        num = np.sum(_site_transfer(pair, lefts[j], current_op, True) * rights[j + 2])
        den = np.sum(_site_transfer(pair, lefts[j], np.eye(4), True) * rights[j + 2])
        currents[j] = (num / den).real
    return profile, currents


def xxx_current(length: int, coupling: float = 1.0) -> float:
    """The exact spin current at Δ = 1, μ = 1 on the middle bond (⌊L/2⌋, ⌊L/2⌋+1), the
    bond ``ness_core``'s ``xxz`` reports."""
    return float(xxx_profile_and_currents(length, coupling)[1][length // 2 - 1])


def mps_reference_currents(coupling: float = 1.0,
                           lengths: tuple[int, ...] = MPS_COMPARISON_LENGTHS
                           ) -> dict[int, float]:
    """{L: J(L)} of the exact isotropic maximally driven chain, for the matrix-product
    solver's test (``xxz`` with anisotropy 1, drive 1, coupling Γ)."""
    return {length: xxx_current(length, coupling) for length in lengths}
