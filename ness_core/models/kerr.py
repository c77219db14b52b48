"""Coherently driven Kerr resonator: a dissipative phase transition (docs/conventions.md, S8).

Rotating frame of the drive, ħ = k_B = 1, Fock basis |0⟩ … |N_c − 1⟩:

    H = −Δ a†a + (U/2) a†a†aa + F (a + a†),
    jumps √(κ(n+1)) a and √(κ n) a†, n = 1/(exp(ω0/T) − 1) (0 at T = 0),

with the thermodynamic-limit scaling of Casteels et al. (2017): U = U0/N, F = F0 √N, so the
photon number grows ∝ N and, at the bistable point, the Liouvillian gap closes exponentially
in N. The bath exchanges quanta ω0, so its heat current is ω0 Tr(a†a D[ρ]) and the Spohn
entropy production is σ = ω0 κ(⟨a†a⟩ − n)/T (``inf`` at T = 0 with light in the cavity).

``current`` is the net photon current into the bath, J = κ(⟨a†a⟩ − n) (emitted κ(n+1)⟨a†a⟩
minus absorbed κn⟨aa†⟩), as for the qubit: it vanishes in equilibrium (F = 0, the thermal
state ⟨a†a⟩ = n), and σ = ω0 J/T. The gross output κ⟨a†a⟩ (the photon flux leaving the
cavity through its mirror, κn = 0.582 at F = 0, T = ω0 = κ = 1) is ``emitted_photon_flux``;
at T = 0 the two agree. (Before this convention ``current`` was the gross κ⟨a†a⟩.)

The Fock cutoff is automatic unless ``fock_cutoff`` is given: it starts from the upper
mean-field branch, |α|²((U|α|² − Δ)² + κ²/4) = F², plus thermal and shot-noise margins, and
grows by half until ρ_{N_c−1, N_c−1} < ``CUTOFF_TOL``. A cutoff that cannot reach the
tolerance (given, or ``MAX_CUTOFF``) is reported through ``status``.

The Liouvillian is solved in real Hermitian coordinates by SuperLU in METIS nested-dissection
order (``STEADY_SOLVER``, chosen by measurement in ``benchmarks/lindblad_vs_qutip.py``: the
jump-chain preconditioned GMRES mixes slowly over Fock levels, so its shift-invert gap steps
cost far more than reusing one LU; real coordinates make the gap's Arnoldi 1.6× faster).

With ``fluctuations=true`` the counted current Q_t is the net number of photons emitted into
the bath (+1 per a jump, −1 per a† jump; at T = 0 the photodetector count), and
``fano_factor``/``tur_ratio`` use its mean κ(⟨a†a⟩ − n).

Exact check: the Drummond–Walls complex-P solution at T = 0.

References
----------
P. D. Drummond and D. F. Walls, J. Phys. A 13, 725 (1980); W. Casteels, R. Fazio and
C. Ciuti, Phys. Rev. A 95, 012128 (2017); F. Minganti et al., Phys. Rev. A 98, 042118 (2018).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp

from ness_core.model import (
    Model,
    Observable,
    Parameter,
    TargetLimit,
    fluctuation_observables,
)
from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_observables import (
    bose_occupation,
    charge_transfer,
    current_cumulants,
    dissipator_flow,
    entropy_production,
    thermal_affinity,
)
from ness_core.solvers.lindblad_spectrum import ARNOLDI_K, spectral_gap
from ness_core.solvers.lindblad_steady_state import steady_state
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.solvers.slow_modes import track_gap
from ness_core.status import combine
from ness_core.warm import WarmStep

CUTOFF_TOL = 1e-12  # largest population allowed in the top Fock level
MIN_CUTOFF = 12
MAX_CUTOFF = 400  # 160 000 density-matrix elements
STEADY_SOLVER = "direct"
FLOW_ATOL = 1e-12  # flows below this fraction of κ ω0 count as zero


def mean_field_branches(drive: float, detuning: float, kerr: float, kappa: float
                        ) -> np.ndarray:
    """The real roots n of n((U n − Δ)² + κ²/4) = F² (the semiclassical branches), ascending."""
    roots = np.roots([kerr * kerr, -2.0 * detuning * kerr,
                      detuning * detuning + kappa * kappa / 4, -drive * drive])
    return np.sort(roots[np.abs(roots.imag) <= 1e-9 * (1.0 + np.abs(roots))].real)


def mean_field_photons(params: dict[str, Any]) -> float:
    """The upper semiclassical branch's photon number (U = U0/N, F = F0√N)."""
    branches = mean_field_branches(params["drive"] * math.sqrt(params["N"]),
                                   params["detuning"], params["U0"] / params["N"],
                                   params["kappa"])
    return float(max(branches.max(initial=0.0), 0.0))


def bistable_window(detuning: float, U0: float, kappa: float) -> tuple[float, float] | None:
    """Drives F0 with three mean-field branches, N-scaled: n((U0 n − Δ)² + κ²/4) = F0²
    (n = ⟨a†a⟩/N) has three real roots between the turning points of its left side,
    3U0² n² − 4U0Δ n + Δ² + κ²/4 = 0. None without bistability (Δ U0 ≤ 0 or Δ² ≤ 3κ²/4)."""
    disc = 4 * U0 * U0 * (detuning * detuning - 3 * kappa * kappa / 4)
    if U0 * detuning <= 0 or disc <= 0:
        return None
    turning = [(4 * U0 * detuning + sign * math.sqrt(disc)) / (6 * U0 * U0) for sign in (1, -1)]
    drives = [math.sqrt(n * ((U0 * n - detuning) ** 2 + kappa * kappa / 4)) for n in turning]
    return drives[0], drives[1]


def _branch_weight(k: float, drive: float, detuning: float, U0: float, kappa: float) -> float:
    """(1/N) ln of the k·N-th term of the Drummond–Walls series ₀F₂(; c, c*; 2x) as N → ∞:
    φ(k) = k ln(8F0²/U0²) − ∫₀ᵏ ln((s − b)² + g²) ds − k ln k + k, b = 2Δ/U0, g = κ/U0.
    φ'(k) = 0 is the mean-field equation at n = k/2, so the series' largest terms sit on
    the stable branches."""
    b, g = 2 * detuning / U0, kappa / U0

    def integral(s: float) -> float:  # antiderivative of ln((s − b)² + g²)
        return ((s - b) * math.log((s - b) ** 2 + g * g) - 2 * (s - b)
                + 2 * g * math.atan((s - b) / g))

    return (k * math.log(8 * drive * drive / (U0 * U0)) - (integral(k) - integral(0.0))
            - k * math.log(k) + k)


def transition_drive(detuning: float, U0: float, kappa: float) -> float | None:
    """F0 of the first-order transition as N → ∞ at T = 0 (None without bistability).

    The Drummond–Walls photon number is a ratio of ₀F₂ series whose terms grow like
    exp(N φ(k)) (:func:`_branch_weight`); as N → ∞ the series are dominated by the largest
    term, so ⟨a†a⟩/N jumps from the lower to the upper stable branch where the two carry
    equal weight φ. Between them lies the bistable window; the Liouvillian gap closes there
    (Casteels, Fazio and Ciuti 2017)."""
    window = bistable_window(detuning, U0, kappa)
    if window is None:
        return None

    from scipy.optimize import brentq  # here: 0.13 s of import for every Kerr job otherwise

    def imbalance(drive: float) -> float:
        branches = mean_field_branches(drive, detuning, U0, kappa)  # three inside the window
        low, high = 2 * branches[0], 2 * branches[-1]
        return (_branch_weight(high, drive, detuning, U0, kappa)
                - _branch_weight(low, drive, detuning, U0, kappa))

    span = window[1] - window[0]
    return float(brentq(imbalance, window[0] + 1e-9 * span, window[1] - 1e-9 * span,
                        xtol=1e-13))


def initial_cutoff(params: dict[str, Any]) -> int:
    """First Fock cutoff tried: mean-field photons plus 8 standard deviations, plus the level
    where a thermal distribution (n/(n+1))^k falls below ``CUTOFF_TOL``."""
    n_th = bose_occupation(params["omega0"], params["temperature"])
    photons = mean_field_photons(params)
    thermal = math.log(CUTOFF_TOL) / math.log(n_th / (n_th + 1)) if n_th > 0 else 0.0
    estimate = photons + 8 * math.sqrt(photons + 1) + thermal + 6
    return int(min(MAX_CUTOFF, max(MIN_CUTOFF, math.ceil(estimate))))


def kerr_operators(params: dict[str, Any], cutoff: int
                   ) -> tuple[sp.csr_matrix, list[sp.csr_matrix], sp.csr_matrix]:
    """H, the jump operators and a†a in the Fock basis truncated at ``cutoff`` levels."""
    a = sp.diags(np.sqrt(np.arange(1, cutoff)), 1, format="csr")
    number = sp.diags(np.arange(cutoff, dtype=float), format="csr")
    u, f = params["U0"] / params["N"], params["drive"] * math.sqrt(params["N"])
    pairs = sp.diags(np.arange(cutoff) * (np.arange(cutoff) - 1.0), format="csr")  # a†a†aa
    hamiltonian = -params["detuning"] * number + 0.5 * u * pairs + f * (a + a.T)
    n = bose_occupation(params["omega0"], params["temperature"])
    jumps = [math.sqrt(params["kappa"] * (n + 1.0)) * a]
    if n > 0:
        jumps.append(math.sqrt(params["kappa"] * n) * a.T)
    return hamiltonian, jumps, number


def kerr_liouvillian(hamiltonian: sp.spmatrix, jumps: list[sp.spmatrix]) -> Liouvillian:
    """The full Liouvillian as the model solves it: real Hermitian coordinates, METIS order."""
    return Liouvillian(hamiltonian, jumps, real_arithmetic=True)


class Kerr(Model):
    """Driven-dissipative Kerr resonator with the Casteels scaling N (docs/conventions.md, S8).

    Observables: ``current`` (net photon current κ(⟨a†a⟩ − n) into the bath, 1/time),
    ``emitted_photon_flux`` (gross output κ⟨a†a⟩), ``photon_number``
    (⟨a†a⟩), ``photon_number_per_scale`` (⟨a†a⟩/N, the order parameter), ``fock_cutoff``
    (levels used), ``scale`` (N), ``entropy_production`` (Spohn), ``gap`` and ``gap_imag``
    (slowest Liouvillian mode: the gap closes at the bistable point as N grows).
    """

    name = "kerr"
    summary = "coherently driven Kerr resonator (bistability, dissipative phase transition)"
    revision = 1  # the conventions of docs/conventions.md
    parameters = (
        Parameter("drive", 1.5, "energy", "drive amplitude F0 (F = F0·√N)", axis="drive",
                  symbol=r"$F_0$"),
        Parameter("detuning", 3.0, "energy", "drive detuning Δ = ω_d − ω_c", symbol=r"$\Delta$"),
        Parameter("U0", 1.0, "energy", "Kerr nonlinearity at N = 1 (U = U0/N)", symbol=r"$U_0$"),
        Parameter("kappa", 1.0, "1/time", "photon loss rate κ", low=0.0, low_inclusive=False,
                  symbol=r"$\kappa$"),
        Parameter("N", 1.0, "1", "scale of the thermodynamic limit (U = U0/N, F = F0√N)",
                  low=0.1, high=50.0, symbol=r"$N$"),
        Parameter("temperature", 0.0, "energy", "bath temperature T (k_B = 1)", low=0.0,
                  axis="temperature", symbol=r"$T$"),
        Parameter("omega0", 1.0, "energy", "resonator frequency ω0 (sets the bath occupation)",
                  low=0.0, low_inclusive=False, symbol=r"$\omega_0$"),
        Parameter("fock_cutoff", None, "1", "Fock levels kept; automatic when absent",
                  kind=int, low=2, high=MAX_CUTOFF),
        Parameter("fluctuations", False, "", "also compute the photon count's scaled variance",
                  kind=bool),
        Parameter("gap_modes", ARNOLDI_K, "1", "eigenvalues nearest 0 searched for the slowest "
                  "mode (raise it to find a fast-oscillating one)", kind=int, low=1, high=500),
    )
    observables = (
        Observable("current", "1/time", "net photon current into the bath κ(⟨a†a⟩ − n_th)",
                   symbol=r"$J$"),
        Observable("emitted_photon_flux", "1/time", "gross output photon flux κ⟨a†a⟩"),
        Observable("entropy_production", "k_B/time", "Spohn entropy production rate",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "Liouvillian gap", symbol=r"$g$"),
        Observable("gap_imag", "1/time", "oscillation frequency of the slowest mode"),
        Observable("photon_number", "1", "mean photon number ⟨a†a⟩"),
        Observable("photon_number_per_scale", "1", "mean photon number per scale ⟨a†a⟩/N"),
        Observable("fock_cutoff", "1", "number of Fock levels used", kind=int),
        Observable("scale", "1", "scale N of the thermodynamic limit"),
        *fluctuation_observables("net emitted photon count"),
    )

    equilibrium = "drive = 0 (F = 0): the thermal state of the bath, any Δ, U, T"
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "temperature": 1.0, "detuning": 0.4})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Undriven (F = 0): the bath's thermal state."""
        return params["drive"] == 0

    def cost_estimate(self, params: dict[str, Any]) -> float:
        """Measured: 0.08 / 0.73 / 1.3 / 2.7 s at 80 / 160 / 240 / 320 Fock levels."""
        cutoff = params["fock_cutoff"] or initial_cutoff(params)
        return 0.01 + 0.08 * (cutoff / 80) ** 2.5

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """MB: the Liouvillian, its sparse LU and the Arnoldi vectors all live on the
        cutoff² density-matrix entries; measured 2.6 kB per entry at cutoff 160, 2.8 kB at
        320 (LU fill-in grows slowly): 5 kB per entry. An automatic cutoff is estimated at
        its first value, as in ``cost_estimate``."""
        cutoff = params["fock_cutoff"] or initial_cutoff(params)
        return 5000 * cutoff**2 / 2**20

    def target_limit(self, refine: dict[str, Any], params: dict[str, Any]
                     ) -> TargetLimit | None:
        """At T = 0, the gap's minimum and the photon density's steepest point along the
        drive both tend, as N → ∞, to the transition drive (:func:`transition_drive`),
        inside the mean-field bistable window."""
        wanted = {("minimum", "gap"), ("steepest", "photon_number_per_scale")}
        if (refine.get("axis") != "drive" or params["temperature"] != 0
                or (refine["target"], refine["observable"]) not in wanted):
            return None
        args = params["detuning"], params["U0"], params["kappa"]
        drive = transition_drive(*args)
        if drive is None:
            return None
        return TargetLimit(drive, f"N → ∞: Drummond–Walls jump F0 = {drive:.5g}; "
                                  "shaded: mean-field bistable window", bistable_window(*args))

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.solve_warm(params, None).result

    def solve_warm(self, params: dict[str, Any], warm: Any) -> WarmStep:
        """Along a path: the METIS orderings of the previous points (reused while the
        Liouvillian's sparsity pattern is unchanged) and the previous point's slow modes,
        from which :func:`track_gap` continues the gap with the steady state's factor
        (``warm``: (orderings, SlowModes or None)). A refused continuation is solved by
        Arnoldi started from the sum of the previous modes, and ``refused`` says why.
        ``work``: SuperLU solve calls of the gap (a block of columns is one call)."""
        orderings, previous = warm if warm is not None else ({}, None)
        automatic = params["fock_cutoff"] is None
        cutoff = initial_cutoff(params) if automatic else params["fock_cutoff"]
        while True:
            hamiltonian, jumps, number = kerr_operators(params, cutoff)
            liouvillian = kerr_liouvillian(hamiltonian, jumps)
            liouvillian.orderings = orderings
            state = steady_state(liouvillian, method=STEADY_SOLVER)
            top = float(state.rho[-1, -1].real)
            if state.status != "ok" or top < CUTOFF_TOL or not automatic or cutoff == MAX_CUTOFF:
                break
            cutoff = min(MAX_CUTOFF, math.ceil(1.5 * cutoff))
        cutoff_status = "ok"
        if not top < CUTOFF_TOL:
            which = "fock_cutoff" if not automatic else "maximal cutoff"
            cutoff_status = (f"{which} {cutoff} too small: top Fock population {top:.1e} "
                             f">= {CUTOFF_TOL:.0e}")
        spectrum, refused = None, ""
        if previous is not None and state.status == "ok":
            try:
                spectrum, refused = track_gap(liouvillian, state, params["gap_modes"],
                                              previous)
            except (np.linalg.LinAlgError, RuntimeError) as exc:
                spectrum, refused = None, f"tracking failed: {exc}"
        if spectrum is None:  # cold, or declined: Arnoldi from the previous modes' sum
            start = None
            if previous is not None and previous.basis.shape[0] == liouvillian.coordinates(
                    STEADY_SOLVER):
                start = previous.basis.sum(axis=1)
            spectrum = spectral_gap(liouvillian, steady=state, solver=STEADY_SOLVER,
                                    modes=params["gap_modes"], keep_vector=True, start=start)
        status = combine(state.status, cutoff_status, spectrum.status)
        rho = state.rho
        photons = float(np.real(np.sum(number.diagonal() * rho.diagonal())))
        n_th = bose_occupation(params["omega0"], params["temperature"])
        heat = params["omega0"] * dissipator_flow(rho, number, jumps)
        sigma = entropy_production([heat], [thermal_affinity(params["temperature"])],
                                   atol=FLOW_ATOL * params["kappa"] * params["omega0"])
        counting_mean = variance = np.nan
        if params["fluctuations"]:
            emitted = [-charge_transfer(j, number.diagonal()) for j in jumps]
            counting = current_cumulants(liouvillian, state, jumps, emitted, STEADY_SOLVER)
            counting_mean, variance = counting.mean, counting.variance
            status = combine(status, counting.status)
        result = {
            "current": params["kappa"] * (photons - n_th),
            "emitted_photon_flux": params["kappa"] * photons,
            "entropy_production": sigma,
            "gap": spectrum.gap,
            "gap_imag": spectrum.imag,
            "photon_number": photons,
            "photon_number_per_scale": photons / params["N"],
            "fock_cutoff": cutoff,
            "scale": params["N"],
            **current_fluctuations(counting_mean, variance, sigma),
            "residual": state.residual,
            "status": status,
        }
        return WarmStep(result, (orderings, spectrum.modes), spectrum.calls, refused)
