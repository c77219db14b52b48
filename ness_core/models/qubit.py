"""Driven two-level atom in a thermal photon bath: resonance fluorescence (docs/conventions.md, S8).

Rotating frame of the drive, ħ = k_B = 1, basis (|g⟩, |e⟩):

    H = −Δ σ_ee + (Ω/2) σ_x,
    jumps √(γ(n+1)) σ⁻ (emission) and √(γ n) σ⁺ (absorption), n = 1/(exp(ω0/T) − 1),

with n = 0 at T = 0. The bath exchanges quanta of the bare transition energy ω0, so the heat
it receives is ω0 times the net emission flux J = γ(n+1)ρ_ee − γ n ρ_gg = −Tr(σ_ee D[ρ]),
and the Spohn entropy production is σ = ω0 J / T (``inf`` at T = 0 whenever J > 0; 0 without
drive, where the steady state is the Gibbs state ρ_ee/ρ_gg = exp(−ω0/T)).

With ``fluctuations=true`` the counted current Q_t is the net number of photons emitted into
the bath (+1 per σ⁻ jump, −1 per σ⁺ jump); its Fano factor is Mandel's Q + 1.

Exact checks: ⟨σ_ee⟩ = (Ω²/4)/(Δ² + γ²/4 + Ω²/2) at T = 0 and, on resonance, the Mollow
spectrum of L: 0, −γ/2, −3γ/4 ± √(γ²/16 − Ω²), and the photon-counting Fano factor
1 − 6γ²Ω²/(γ² + 2Ω²)² (antibunched light: 1/4 at Ω = γ/√2).

References
----------
B. R. Mollow, Phys. Rev. 188, 1969 (1969); L. Mandel, Opt. Lett. 4, 205 (1979) (sub-Poissonian
resonance fluorescence); H. J. Carmichael, *Statistical Methods in Quantum
Optics 1* (1999), ch. 2; H. Spohn, J. Math. Phys. 19, 1227 (1978).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ness_core.model import Model, Observable, Parameter, fluctuation_observables
from ness_core.solvers.lindblad import Liouvillian
from ness_core.solvers.lindblad_observables import (
    bose_occupation,
    charge_transfer,
    current_cumulants,
    dissipator_flow,
    entropy_production,
    thermal_affinity,
)
from ness_core.solvers.lindblad_spectrum import spectral_gap
from ness_core.solvers.lindblad_steady_state import steady_state
from ness_core.solvers.markov_counting import current_fluctuations
from ness_core.status import combine

SIGMA_MINUS = sp.csr_matrix(np.array([[0.0, 1.0], [0.0, 0.0]]))  # |g⟩⟨e|, basis (g, e)
SIGMA_EE = sp.csr_matrix(np.diag([0.0, 1.0]))
SIGMA_X = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
# Flows below this fraction of γ count as zero in the entropy production.
FLOW_ATOL = 1e-12


def qubit_operators(params: dict[str, Any]) -> tuple[sp.csr_matrix, list[sp.csr_matrix]]:
    """H and the jump operators of docs/conventions.md, S8 (zero-rate jumps omitted)."""
    hamiltonian = -params["detuning"] * SIGMA_EE + 0.5 * params["drive"] * SIGMA_X
    n = bose_occupation(params["omega0"], params["temperature"])
    jumps = [np.sqrt(params["gamma"] * (n + 1.0)) * SIGMA_MINUS]
    if n > 0:
        jumps.append(np.sqrt(params["gamma"] * n) * SIGMA_MINUS.T)
    return hamiltonian, jumps


class Qubit(Model):
    """Driven dissipative qubit (resonance fluorescence) in a thermal bath (docs/conventions.md S8).

    Observables: ``current`` (net photon emission flux into the bath, 1/time),
    ``p_excited`` (⟨σ_ee⟩), ``coherence`` (|⟨σ⁻⟩|), ``entropy_production`` (ω0 J/T),
    ``gap`` and ``gap_imag`` (slowest Liouvillian mode; the Mollow spectrum on resonance);
    with ``fluctuations=true`` also ``current_variance``, ``fano_factor``, ``tur_ratio`` of
    the net emitted photon count. The 4 × 4 Liouvillian is solved and diagonalised densely.
    """

    name = "qubit"
    summary = "driven two-level atom in a thermal bath (resonance fluorescence, Mollow)"
    parameters = (
        Parameter("drive", 1.0, "energy", "Rabi frequency Ω", axis="drive", symbol=r"$\Omega$"),
        Parameter("detuning", 0.0, "energy", "laser detuning Δ = ω_L − ω0", symbol=r"$\Delta$"),
        Parameter("gamma", 1.0, "1/time", "spontaneous emission rate γ", low=0.0,
                  low_inclusive=False, symbol=r"$\gamma$"),
        Parameter("omega0", 1.0, "energy", "transition frequency ω0 (sets the bath occupation)",
                  low=0.0, low_inclusive=False, symbol=r"$\omega_0$"),
        Parameter("temperature", 0.0, "energy", "bath temperature T (k_B = 1)", low=0.0,
                  axis="temperature", symbol=r"$T$"),
        Parameter("fluctuations", False, "", "also compute the photon count's scaled variance",
                  kind=bool),
    )
    observables = (
        Observable("current", "1/time", "net photon emission flux into the bath", symbol=r"$J$"),
        Observable("entropy_production", "k_B/time", "Spohn entropy production rate ω0 J/T",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "Liouvillian gap", symbol=r"$g$"),
        Observable("gap_imag", "1/time", "oscillation frequency of the slowest mode"),
        Observable("p_excited", "1", "excited-state population ⟨σ_ee⟩"),
        Observable("coherence", "1", "magnitude of the dipole |⟨σ⁻⟩|"),
        *fluctuation_observables("net emitted photon count"),
    )

    equilibrium = "drive = 0 (Ω = 0): the Gibbs state of the bath, any detuning, γ and T"
    equilibrium_examples = ({"drive": 0.0}, {"drive": 0.0, "temperature": 0.7, "detuning": 0.3})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Undriven (Ω = 0): the bath's Gibbs state."""
        return params["drive"] == 0

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        hamiltonian, jumps = qubit_operators(params)
        liouvillian = Liouvillian(hamiltonian, jumps)
        state = steady_state(liouvillian, method="dense")
        spectrum = spectral_gap(liouvillian, method="dense")
        rho = state.rho
        emission = -dissipator_flow(rho, SIGMA_EE, jumps)
        heat = -params["omega0"] * emission
        sigma = entropy_production([heat], [thermal_affinity(params["temperature"])],
                                   atol=FLOW_ATOL * params["gamma"] * params["omega0"])
        status = combine(state.status, spectrum.status)
        variance = np.nan
        if params["fluctuations"]:
            emitted = [-charge_transfer(j, SIGMA_EE.diagonal()) for j in jumps]
            counting = current_cumulants(liouvillian, state, jumps, emitted)
            variance = counting.variance
            status = combine(status, counting.status)
        # round-off without drive (J = 0 and, the count being bounded, D = 0): exact zeros,
        # so the Fano factor is NaN there rather than a ratio of two round-off errors
        tiny = FLOW_ATOL * params["gamma"]
        emission = 0.0 if abs(emission) <= tiny else emission
        variance = 0.0 if abs(variance) <= tiny else variance
        return {
            "current": emission,
            "entropy_production": sigma,
            "gap": spectrum.gap,
            "gap_imag": spectrum.imag,
            "p_excited": float(rho[1, 1].real),
            "coherence": float(abs(rho[1, 0])),
            **current_fluctuations(emission, variance, sigma),
            "residual": state.residual,
            "status": status,
        }
