"""Boundary-driven XXZ spin chain: magnetisation transport (docs/conventions.md, S8).

L spins-1/2, ħ = k_B = 1, site 1 is the first tensor factor, local basis (|↑⟩, |↓⟩):

    H = Σ_{j=1}^{L−1} (σˣ_j σˣ_{j+1} + σʸ_j σʸ_{j+1} + Δ_z σᶻ_j σᶻ_{j+1}),
    site 1: √(Γ(1+μ)/2) σ⁺_1, √(Γ(1−μ)/2) σ⁻_1;   site L: √(Γ(1−μ)/2) σ⁺_L, √(Γ(1+μ)/2) σ⁻_L,

so the left bath alone would polarise its spin to ⟨σᶻ⟩ = μ and the right one to −μ. The
spin current on bond (j, j+1) is J_j = ⟨2(σˣ_j σʸ_{j+1} − σʸ_j σˣ_{j+1})⟩, so that
d⟨σᶻ_j⟩/dt = J_{j−1} − J_j; in the steady state it is the same on every bond and equals the
magnetisation the left bath injects. Each bath is a magnetisation reservoir whose local
fixed point is ∝ exp(λσᶻ) with λ = ±artanh μ, so the Spohn entropy production is
σ = 2 artanh(μ) J (``inf`` at |μ| = 1 with a current flowing, 0 at μ = 0).

Symmetry reduction: H conserves the number of up spins Q and every jump changes it by one on
both sides of ρ, so L conserves q = Q_a − Q_b of |a⟩⟨b|. The steady state lives in the block
q = 0 of C(2L, L) elements (12 870 instead of 65 536 at L = 8, 184 756 instead of 1 048 576
at L = 10), factorised by SuperLU in nested-dissection order up to L = 8 and solved by GMRES
preconditioned with the exact no-jump (Sylvester) inverse per magnetisation sector above.
The gap is the minimum over the blocks q = 0 … L (q and −q have conjugate spectra);
``gap_sectors="zero"`` keeps only the q = 0 block, ``"none"`` skips it.

Reflection × spin flip: P|s_1 … s_L⟩ = |s̄_L … s̄_1⟩ commutes with H and maps the jump set
to itself (√(Γ(1+μ)/2) σ⁺_1 ↔ √(Γ(1+μ)/2) σ⁻_L, …), so 𝒫ρ = PρP commutes with L. It maps
q to −q: it splits the factorised block q = 0 into the sectors 𝒫 = ±1 (the steady state in
+1, both in real coordinates, about half the elements each), and the antiunitary
ρ → P ρ† P maps each block q ≠ 0 to itself, which gives those blocks real coordinates too
(:class:`~ness_core.solvers.lindblad.Liouvillian`'s ``symmetry``). With
``fluctuations=true`` the q = 0 block stays whole: the counted left-bath jumps are not
symmetric.

Weak coupling: below Γ = ``WEAK_COUPLING`` (1e-6, hopping 1) the sparse LU of the bordered
Liouvillian loses its ordering to pivoting and slows down without bound (L = 8 at Γ = 1e-300
ran for minutes), while the NESS has reached its Γ → 0 limit: ρ(Γ) = ρ₀ + O(Γ²) and every
rate (current, σ, gap, variance) is Γ times its weak-coupling value + O(Γ³) (measured at
L = 4, 5, Δ_z = 0, 1, 2.5: J/Γ, gap/Γ, σ/Γ agree between Γ = 1e-6 and 1e-8 to ~1e-9). So
such points are solved at Γ = ``WEAK_COUPLING`` and the rates multiplied by
Γ/``WEAK_COUPLING``; ``gap_imag`` (an energy difference of H plus O(Γ)) is NaN there, and
``note`` says so.

Beyond L = ``MAX_SITES`` (``method="mps"``, or ``"auto"``, the default, past that size) the
steady state is a matrix-product state of ρ's Pauli coefficients evolved to stationarity by
fourth-order TEBD and extrapolated in the step (:mod:`ness_core.solvers.mps`,
docs/matrix-product.md): no gap; ``current_uniformity``, ``current_error``,
``truncation_error`` and ``bond_dimension`` report its convergence.

With ``fluctuations=true`` the counted current Q_t is the magnetisation the left bath
injects (+2 per σ⁺_1 jump, −2 per σ⁻_1 jump), whose mean is the spin current.

Known results: the XX chain (Δ_z = 0) carries a ballistic current independent of L; at μ = 0
the steady state is the identity / 2^L.

References
----------
T. Prosen, Phys. Rev. Lett. 107, 137201 (2011); M. Žnidarič, J. Stat. Mech. (2010) L05002
(XX chain); M. Žnidarič, Phys. Rev. E 92, 042143 (2015) (relaxation times of boundary-driven
chains); B. Buča and T. Prosen, New J. Phys. 14, 073007 (2012) (superoperator symmetries).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import reduce
from typing import Any

import numpy as np
import scipy.sparse as sp

from ness_core.errors import ParameterError
from ness_core.model import Model, Observable, Parameter, fluctuation_observables
from ness_core.solvers import mps
from ness_core.solvers.lindblad import Liouvillian, charge_sectors
from ness_core.solvers.lindblad_observables import (
    charge_transfer,
    current_cumulants,
    dissipator_flow,
    entropy_production,
    expectation,
)
from ness_core.solvers.lindblad_spectrum import ARNOLDI_K, spectral_gap
from ness_core.solvers.lindblad_steady_state import steady_state
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.status import OK, combine
from ness_core.warm import WarmStep

MAX_SITES = 10  # the q = 0 block of L = 11 holds 705 432 elements: too big for GMRES storage
MPS_MAX_SITES = 1024
METHODS = ("auto", "exact", "mps")
# Blocks up to this size are factorised by SuperLU in METIS order (q = 0 in real
# coordinates), larger ones use preconditioned GMRES. Measured: the L = 8 blocks q = 0 and 1
# (12 870 and 11 440 elements) factorise in 1.7–1.9 s, the L = 9 block q = 0 (48 620) took
# 64 s and 1.8 GB, where GMRES needs a fraction of that.
DIRECT_MAX_ELEMENTS = 13000
FLOW_ATOL = 1e-12  # flows below this fraction of Γ count as zero
WEAK_COUPLING = 1e-6  # smaller Γ is solved here and its rates scaled (module docstring)
WEAK_COUPLING_RATES = ("current", "entropy_production", "gap", "current_spread",
                       "current_variance", "residual")

SIGMA_PLUS = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]))  # |↑⟩⟨↓|
SIGMA_Z = sp.csr_matrix(np.diag([1.0, -1.0]))
SIGMA_X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
SIGMA_Y = sp.csr_matrix(np.array([[0.0, -1.0j], [1.0j, 0.0]]))


def site_operator(op: sp.spmatrix, site: int, length: int) -> sp.csr_matrix:
    """``op`` acting on ``site`` (1-based) of a chain of ``length`` spins."""
    factors = [op if k == site else sp.identity(2, format="csr") for k in range(1, length + 1)]
    return sp.csr_matrix(reduce(lambda x, y: sp.kron(x, y, format="csr"), factors))


def xxz_operators(params: dict[str, Any]) -> tuple[sp.csr_matrix, list[list[sp.csr_matrix]]]:
    """H and the jump operators of the left and right baths (zero-rate jumps omitted)."""
    length, mu, gamma = params["L"], params["drive"], params["coupling"]
    hamiltonian = sp.csr_matrix((2**length, 2**length), dtype=complex)
    for j in range(1, length):
        for op, weight in ((SIGMA_X, 1.0), (SIGMA_Y, 1.0), (SIGMA_Z, params["anisotropy"])):
            hamiltonian = hamiltonian + weight * (site_operator(op, j, length)
                                                  @ site_operator(op, j + 1, length))
    up, down = math.sqrt(gamma * (1 + mu) / 2), math.sqrt(gamma * (1 - mu) / 2)
    baths = []
    for site, (rate_plus, rate_minus) in ((1, (up, down)), (length, (down, up))):
        baths.append([rate * site_operator(op, site, length)
                      for rate, op in ((rate_plus, SIGMA_PLUS), (rate_minus, SIGMA_PLUS.T))
                      if rate > 0])
    return hamiltonian, baths


def spin_current(rho: np.ndarray, bond: int, length: int) -> float:
    """J = ⟨2(σˣ_j σʸ_{j+1} − σʸ_j σˣ_{j+1})⟩ on the bond (j, j+1), j = ``bond`` (1-based)."""
    op = 2.0 * (site_operator(SIGMA_X, bond, length) @ site_operator(SIGMA_Y, bond + 1, length)
                - site_operator(SIGMA_Y, bond, length) @ site_operator(SIGMA_X, bond + 1, length))
    return expectation(rho, op).real


class Xxz(Model):
    """Boundary-driven open XXZ chain (docs/conventions.md, S8, Prosen 2011).

    Observables: ``current`` (spin current on the middle bond (⌊L/2⌋, ⌊L/2⌋+1), 1/time),
    ``current_spread`` (max − min of the bond currents, a steady-state check),
    ``magnetization_profile`` (⟨σᶻ_j⟩ along the chain, dims ``("site",)``),
    ``entropy_production`` (2 artanh(μ) J), ``gap`` and ``gap_imag`` (slowest Liouvillian
    mode over the charge blocks chosen by ``gap_sectors``; NaN with ``method="mps"``),
    ``current_uniformity`` ((max − min)/|J| of the bond currents) and the matrix-product
    diagnostics ``current_error``, ``truncation_error``, ``bond_dimension``.
    """

    name = "xxz"
    summary = "boundary-driven XXZ spin chain between two magnetisation reservoirs"
    dimension_lengths = {"site": "L"}
    parameters = (
        Parameter("L", 6, "1", f"number of spins (exact: L <= {MAX_SITES}, mps: L <= "
                  f"{MPS_MAX_SITES})", kind=int, low=2, symbol=r"$L$"),
        Parameter("drive", 0.5, "1", "boundary driving μ (bath polarisations ±μ)", low=-1.0,
                  high=1.0, axis="drive", symbol=r"$\mu$"),
        Parameter("anisotropy", 0.5, "energy", "anisotropy Δ_z of the σᶻσᶻ coupling",
                  symbol=r"$\Delta_z$"),
        Parameter("coupling", 1.0, "1/time", "bath coupling rate Γ", low=0.0,
                  low_inclusive=False, symbol=r"$\Gamma$"),
        Parameter("gap_sectors", "all", "", "charge blocks searched for the gap",
                  kind=str, choices=("all", "zero", "none")),
        Parameter("gap_modes", ARNOLDI_K, "1", "eigenvalues nearest 0 searched for the slowest "
                  "mode (raise it to find a fast-oscillating one)", kind=int, low=1, high=500),
        Parameter("fluctuations", False, "", "also compute the injected magnetisation's "
                  "scaled variance (method exact)", kind=bool),
        Parameter("method", "auto", "", "'exact' Liouvillian, 'mps' matrix-product time "
                  f"evolution (no gap), 'auto': exact up to L = {MAX_SITES}, mps beyond",
                  kind=str, choices=METHODS),
        Parameter("max_bond", 64, "1", "mps: largest bond dimension χ", kind=int, low=1,
                  high=4096),
        Parameter("time_step", 0.1, "time", "mps: Trotter step τ (fourth order, "
                  "extrapolated from τ and τ/2)", low=0.0, low_inclusive=False, high=1.0),
        Parameter("tolerance", 1e-6, "1", "mps: relative precision of the bond currents at "
                  "which the evolution stops", low=0.0, low_inclusive=False, high=0.1),
        Parameter("max_time", 2e4, "time", "mps: evolution time allowed per point",
                  low=0.0, low_inclusive=False),
    )
    observables = (
        Observable("current", "1/time", "spin current on the middle bond", symbol=r"$J$"),
        Observable("entropy_production", "k_B/time", "Spohn entropy production rate",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "Liouvillian gap", symbol=r"$g$"),
        Observable("gap_imag", "1/time", "oscillation frequency of the slowest mode"),
        Observable("current_spread", "1/time", "max − min of the spin current over bonds"),
        Observable("magnetization_profile", "1", "magnetisation ⟨σᶻ_j⟩", dims=("site",)),
        *fluctuation_observables("magnetisation injected by the left bath"),
        Observable("current_uniformity", "1", "(max − min of the bond currents)/|J|, zero "
                   "in the steady state"),
        Observable("current_error", "1/time", "mps: estimated error of the current (NaN: "
                   "exact)"),
        Observable("truncation_error", "1", "mps: largest relative weight dropped by one "
                   "truncation (0: exact)"),
        Observable("bond_dimension", "1", "mps: largest bond dimension reached (NaN: exact)"),
    )

    equilibrium = "drive = 0 (μ = 0, unpolarised baths): the identity/2^L state, any Δ_z, Γ, L"
    equilibrium_examples = ({"L": 4, "drive": 0.0}, {"L": 3, "drive": 0.0, "anisotropy": 1.5})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Unbiased boundaries (μ = 0): the identity/2^L state."""
        return params["drive"] == 0

    def check(self, params: dict[str, Any]) -> None:
        """Exact: the q = 0 block and the GMRES basis must fit in memory, L <=
        ``MAX_SITES``; mps: L <= ``MPS_MAX_SITES`` and no ``fluctuations``."""
        length, method = params["L"], chosen_method(params)
        if method == "exact" and length > MAX_SITES:
            raise ParameterError(
                f"parameter 'L': {length} exceeds the memory limit L <= {MAX_SITES} of method "
                f"'exact' (the steady-state block would hold C({2 * length}, {length}) = "
                f"{math.comb(2 * length, length)} elements); use method 'mps' or 'auto'")
        if method == "mps" and length > MPS_MAX_SITES:
            raise ParameterError(f"parameter 'L': {length} exceeds L <= {MPS_MAX_SITES} of "
                                 "method 'mps'")
        if method == "mps" and params["fluctuations"]:
            raise ParameterError("parameter 'fluctuations': true needs method 'exact' (L <= "
                                 f"{MAX_SITES}); method 'mps' computes no counting statistics")

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """NESS: grows like the q = 0 block, C(2L, L) elements; measured (CPU s, with the
        reflection × spin-flip split) 0.07 / 0.12 / 0.56 s at L = 6 / 7 / 8, ~7 s at L = 10.
        The gap over all sectors dominates: measured 0.05 / 0.44 / 5.8 s more at L = 6 / 7
        / 8, ~11× per site (extrapolated above L = 8). Weak coupling slows the sparse LU
        (diagonal pivots ~Γ are refused): measured ×3 at Γ = 1e-2 and ×8 at
        Γ ≤ ``WEAK_COUPLING`` (L = 7, 8). Method mps: :func:`mps_cost_estimate`."""
        if chosen_method(params) == "mps":
            return mps_cost_estimate(params)
        ness = 0.03 + 4e-5 * math.comb(2 * params["L"], params["L"])
        weak = 1.0 + min(7.0, 1.2 * max(0.0, -math.log10(params["coupling"])))
        if params["gap_sectors"] != "all":
            return ness * weak
        return (ness + 0.05 * 11.0 ** (params["L"] - 6)) * weak

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """MB: the charge blocks of the Liouvillian cover all 4^L density-matrix entries.
        Up to L = 8 every block is factorised (SuperLU fill): measured 3 kB per entry at
        L = 7, 6.9 kB at L = 8, so 8 kB. From L = 9 the large blocks use GMRES (sparse rows
        of ~2L + 2 nonzeros plus Krylov bases: 600–780 B per entry at L = 8–9 without
        factors) and the blocks under ``DIRECT_MAX_ELEMENTS`` are still factorised: 2 kB per
        entry (2 GB at the limit L = 10)."""
        if chosen_method(params) == "mps":
            return mps_memory_estimate(params)
        direct = math.comb(2 * params["L"], params["L"]) <= DIRECT_MAX_ELEMENTS
        return (8000 if direct else 2000) * 4 ** params["L"] / 2**20

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.solve_warm(params, None).result

    def solve_warm(self, params: dict[str, Any], warm: Any) -> WarmStep:
        """Along a path. mps: the evolution starts from the previous point's chain when it
        has as many sites (the fixed point does not depend on the start); work counted in
        steps. Exact: where GMRES solves the steady-state block (L ≥ 9), the previous
        point's steady state (vec ρ over that block, same L) is its initial guess
        (:func:`~ness_core.solvers.lindblad_steady_state.steady_state`'s ``start``); work
        counted in GMRES iterations of the steady state."""
        if chosen_method(params) == "mps":
            start = warm if isinstance(warm, mps.OperatorChain) else None
            refused = ""
            if start is not None and len(start.tensors) != params["L"]:
                start, refused = None, "previous point has another L"
            step = solve_mps(params, start)
            step.refused = refused
            return step
        return self.solve_exact(params, warm if isinstance(warm, np.ndarray) else None)

    def solve_exact(self, params: dict[str, Any], warm: np.ndarray | None) -> WarmStep:
        """The Liouvillian's steady state and gap (module docstring)."""
        if params["coupling"] < WEAK_COUPLING:
            factor = params["coupling"] / WEAK_COUPLING
            step = self.solve_exact({**params, "coupling": WEAK_COUPLING}, warm)
            out = step.result
            out.update({k: out[k] * factor for k in WEAK_COUPLING_RATES})
            out["gap_imag"] = math.nan
            out["note"] = (f"weak coupling: solved at Γ = {WEAK_COUPLING:g}, rates scaled by "
                           f"Γ/{WEAK_COUPLING:g} (NESS converged to O(Γ²)); gap_imag not computed")
            return step
        length = params["L"]
        hamiltonian, baths = xxz_operators(params)
        jumps = [j for bath in baths for j in bath]
        blocks = xxz_blocks(hamiltonian, jumps, length, params["gap_sectors"],
                            whole=params["fluctuations"])
        krylov = block_solver(blocks[0]) == "krylov"
        state = steady_state(blocks[0], method=block_solver(blocks[0]),
                             start=warm if krylov else None)
        rho = state.rho
        status = state.status
        gap = gap_imag = math.nan
        if params["gap_sectors"] != "none" and status == "ok":
            spectrum = spectral_gap(blocks, steady=state, modes=params["gap_modes"],
                                    solver=[block_solver(b) for b in blocks])
            gap, gap_imag = spectrum.gap, spectrum.imag
            status = combine(status, spectrum.status)
        currents = [spin_current(rho, j, length) for j in range(1, length)]
        magnetization = sum(site_operator(SIGMA_Z, j, length) for j in range(1, length + 1))
        injected = [dissipator_flow(rho, magnetization, bath) for bath in baths]
        variance = math.nan
        if params["fluctuations"]:
            weights = [charge_transfer(j, magnetization.diagonal()) for j in baths[0]]
            counting = current_cumulants(blocks[0], state, baths[0], weights,
                                         block_solver(blocks[0]))
            variance = counting.variance
            status = combine(status, counting.status)
        mu = params["drive"]
        affinity = math.inf if abs(mu) == 1 else math.atanh(abs(mu))
        sign = math.copysign(1.0, mu)
        sigma = entropy_production(injected, [sign * affinity, -sign * affinity],
                                   atol=FLOW_ATOL * params["coupling"])
        profile = np.array([expectation(rho, site_operator(SIGMA_Z, j, length)).real
                            for j in range(1, length + 1)])
        result = {
            "current": currents[length // 2 - 1],
            "entropy_production": sigma,
            "gap": gap,
            "gap_imag": gap_imag,
            "current_spread": float(np.ptp(currents)),
            "magnetization_profile": profile,
            **current_fluctuations(currents[length // 2 - 1], variance, sigma),
            "current_uniformity": uniformity(np.array(currents)),
            "current_error": math.nan,
            "truncation_error": 0.0,
            "bond_dimension": math.nan,
            "residual": state.residual,
            "status": status,
        }
        vector = state.rho.ravel(order="F")[blocks[0].elements] if krylov else None
        return WarmStep(result, vector, state.iterations, state.refused)


def chosen_method(params: dict[str, Any]) -> str:
    """``method``, with ``auto`` resolved: exact up to ``MAX_SITES``, mps beyond."""
    if params["method"] != "auto":
        return params["method"]
    return "exact" if params["L"] <= MAX_SITES else "mps"


def uniformity(currents: np.ndarray) -> float:
    """(max − min)/|middle bond current| of the bond currents (0 when all vanish)."""
    spread = float(np.ptp(currents))
    middle = abs(float(currents[(len(currents) + 1) // 2 - 1]))  # bond (⌊L/2⌋, ⌊L/2⌋+1)
    return 0.0 if spread == 0 else spread / middle if middle > 0 else math.inf


def mps_bond_dimension(params: dict[str, Any]) -> int:
    """Typical bond dimension of the chain: ``max_bond``, or 4^(L/4), the mean over the bonds
    of a chain too short to reach it (bond j holds at most 4^min(j, L−j))."""
    return min(params["max_bond"], int(4 ** (params["L"] / 4)) + 1)


def mps_cost_estimate(params: dict[str, Any]) -> float:
    """Seconds: steps × 5 sweeps of 2L − 3 gates, a gate 0.2 ms + 6.5e-8 χ³ s (measured
    17 ms at χ = 64 for the SVD-dominated split, 0.6 ms at χ = 16). Steps ≈ 1.5 t/τ over both
    stages with the relaxation time t ≈ 2L² (measured 72–94 at L = 6, Δ_z = 0.5–1.5) or 4L³
    for the ballistic XX chain (846 at L = 6), capped by ``max_time``."""
    length, chi = params["L"], mps_bond_dimension(params)
    relaxation = 4.0 * length**3 if params["anisotropy"] == 0 else 2.0 * length**2
    steps = 1.5 * min(relaxation, params["max_time"]) / params["time_step"]
    return steps * 5 * (2 * length - 3) * (2e-4 + 6.5e-8 * chi**3)


def mps_memory_estimate(params: dict[str, Any]) -> float:
    """MB: three copies of the chain (L tensors of χ² × 4 reals), the Gram matrices and
    eigenvectors of one split ((4χ)² reals, five of them) and 20 MB of numpy temporaries."""
    chi = params["max_bond"]
    return (3 * params["L"] * chi**2 * 4 * 8 + 5 * (4 * chi) ** 2 * 8) / 2**20 + 20.0


def mps_generators(params: dict[str, Any], basis: np.ndarray) -> list[np.ndarray]:
    """The two-site Liouvillian terms in the Pauli basis (:mod:`ness_core.solvers.mps`): on
    bond j the coupling of spins j, j+1; the left bath's jumps folded into the first bond,
    the right bath's into the last."""
    one = np.eye(2)
    plus, minus = SIGMA_PLUS.toarray(), SIGMA_PLUS.T.toarray()
    x, y, z = SIGMA_X.toarray(), SIGMA_Y.toarray(), SIGMA_Z.toarray()
    coupling = np.kron(x, x) + np.kron(y, y) + params["anisotropy"] * np.kron(z, z)
    mu, gamma, length = params["drive"], params["coupling"], params["L"]
    up, down = math.sqrt(gamma * (1 + mu) / 2), math.sqrt(gamma * (1 - mu) / 2)
    generators = []
    for bond in range(length - 1):
        jumps = []
        if bond == 0:
            jumps += [np.kron(up * plus, one), np.kron(down * minus, one)]
        if bond == length - 2:
            jumps += [np.kron(one, down * plus), np.kron(one, up * minus)]
        generators.append(mps.bond_superoperator(coupling, jumps, basis))
    return generators


def mps_observers(length: int, basis: np.ndarray
                  ) -> tuple[Callable[[mps.OperatorChain], np.ndarray],
                             Callable[[np.ndarray], np.ndarray]]:
    """What the evolution watches (:func:`ness_core.solvers.mps.evolve_to_steady_state`):
    ``observe(chain)``, the L − 1 bond currents then the L magnetisations ⟨σᶻ_j⟩, and
    ``scale(values)``, the largest |bond current| for the currents and 1 for the profile."""
    trace = mps.operator_vector(np.eye(2), basis)
    z_vector = mps.operator_vector(SIGMA_Z.toarray(), basis)
    x, y = SIGMA_X.toarray(), SIGMA_Y.toarray()
    current_matrix = mps.operator_vector(2.0 * (np.kron(x, y) - np.kron(y, x)), basis)

    def observe(chain: mps.OperatorChain) -> np.ndarray:
        sites, bonds = chain.expectations(trace, [z_vector], [current_matrix])
        return np.concatenate([bonds[0], sites[0]])

    def scale(values: np.ndarray) -> np.ndarray:
        out = np.ones_like(values)  # the profile in absolute terms
        out[:length - 1] = max(float(np.max(np.abs(values[:length - 1]))), 1e-300)
        return out

    return observe, scale


def mps_start(length: int, drive: float) -> mps.OperatorChain:
    """The cold start: the product state with the linear magnetisation profile μ … −μ."""
    profile = [drive * (1 - 2 * j / (length - 1)) for j in range(length)]
    return mps.OperatorChain.product([[1.0, 0.0, 0.0, m] for m in profile])


def solve_mps(params: dict[str, Any], start: mps.OperatorChain | None) -> WarmStep:
    """The steady state as a matrix-product operator by fourth-order TEBD, extrapolated in
    the step (:func:`ness_core.solvers.mps.evolve_to_steady_state`), started from ``start``
    or from the product state with the linear magnetisation profile μ … −μ.

    Converged (status ``ok``) when both step lengths reached their fixed points within
    ``max_time`` and the extrapolated bond currents agree to ``tolerance``
    (``current_uniformity``). ``current_error`` adds the extrapolation's size, the bond
    currents' spread and the stages' tolerance; ``residual`` is NaN (the continuity
    equation's residual is the spread). No gap (NaN, ``note``)."""
    length, mu = params["L"], params["drive"]
    basis = mps.pauli_basis(2)
    observe, scale = mps_observers(length, basis)
    if start is None:
        start = mps_start(length, mu)
    chain = start.copy()
    result = mps.evolve_to_steady_state(
        chain, mps_generators(params, basis), observe, scale, params["time_step"],
        params["tolerance"], params["max_time"], params["max_bond"])
    currents, profile = result.values[:length - 1], result.values[length - 1:]
    middle = length // 2 - 1
    current = float(currents[middle])
    spread = uniformity(currents)
    status = OK
    if result.stalled:
        status = (f"not converged: stalled at t = {result.time:g} with current uniformity "
                  f"{spread:.2g}, truncation error {result.discarded:.1g} (raise max_bond)")
    elif not result.converged:
        status = (f"not converged: evolved to t = {result.time:g} (max_time), current "
                  f"uniformity {spread:.2g}")
    elif spread > params["tolerance"]:
        status = (f"not converged: current uniformity {spread:.2g} > tolerance "
                  f"{params['tolerance']:g} (raise max_bond or lower time_step)")
    affinity = math.inf if abs(mu) == 1 else math.atanh(abs(mu))
    sign = math.copysign(1.0, mu)
    sigma = entropy_production([current, -current], [sign * affinity, -sign * affinity],
                               atol=FLOW_ATOL * params["coupling"])
    out = {
        "current": current,
        "entropy_production": sigma,
        "gap": math.nan,
        "gap_imag": math.nan,
        "current_spread": float(np.ptp(currents)),
        "magnetization_profile": np.asarray(profile, float),
        **current_fluctuations(current, math.nan, sigma),
        "current_uniformity": spread,
        "current_error": float(result.error[middle] + np.ptp(currents)),
        "truncation_error": result.discarded,
        "bond_dimension": float(chain.bond_dimension),
        "residual": math.nan,
        "status": status,
        "note": (f"method mps: gap not computed; t = {result.time:g}, {result.steps} steps, "
                 f"χ = {chain.bond_dimension}"),
    }
    return WarmStep(out, state=chain if status == OK else None, work=result.steps)


def charge_block(hamiltonian: sp.spmatrix, jumps: list, sectors: dict[int, np.ndarray], q: int,
                 up_spins: np.ndarray, symmetry: np.ndarray | None = None,
                 parity: int | None = None) -> Liouvillian:
    """The Liouvillian on the charge sector q, in real arithmetic when factorised (q ≠ 0
    only with the reflection × flip ``symmetry``); ``parity`` restricts q = 0 to 𝒫 = ±1."""
    direct = sectors[q].size <= DIRECT_MAX_ELEMENTS
    real = direct and (q == 0 or symmetry is not None)
    return Liouvillian(hamiltonian, jumps, sectors[q], charge=up_spins, real_arithmetic=real,
                       symmetry=symmetry if direct else None,
                       parity=parity if direct else None)


def reflection_flip(length: int) -> np.ndarray:
    """π(a) of P|s_1 … s_L⟩ = |s̄_L … s̄_1⟩ on basis indices (site 1 = most significant bit)."""
    states = np.arange(2**length)
    reflected = np.zeros_like(states)
    for site in range(length):
        reflected |= ((states >> site) & 1) << (length - 1 - site)
    return reflected ^ (2**length - 1)


def xxz_blocks(hamiltonian: sp.spmatrix, jumps: list, length: int, gap_sectors: str = "all",
               whole: bool = False) -> list[Liouvillian]:
    """Blocks for the steady state (first) and the gap (``gap_sectors``, module docstring).

    A factorised q = 0 block is split into 𝒫 = +1 (steady state) and −1 unless ``whole``;
    the blocks q = 1 … L use the reflection × flip conjugation for real coordinates.
    """
    up_spins = np.array([length - bin(a).count("1") for a in range(2**length)])
    sectors = charge_sectors(up_spins)
    symmetry = reflection_flip(length)
    split = not whole and sectors[0].size <= DIRECT_MAX_ELEMENTS
    if split:
        blocks = [charge_block(hamiltonian, jumps, sectors, 0, up_spins, symmetry, parity)
                  for parity in ((1, -1) if gap_sectors != "none" else (1,))]
    else:
        blocks = [charge_block(hamiltonian, jumps, sectors, 0, up_spins)]
    if gap_sectors == "all":
        blocks += [charge_block(hamiltonian, jumps, sectors, q, up_spins, symmetry)
                   for q in range(1, length + 1)]
    return blocks


def block_solver(block: Liouvillian) -> str:
    """SuperLU up to ``DIRECT_MAX_ELEMENTS`` elements, preconditioned GMRES above."""
    return "direct" if block.size <= DIRECT_MAX_ELEMENTS else "krylov"
