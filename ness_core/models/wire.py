"""Quantum wire between a hot and a cold reservoir: exact Gaussian NESS (docs/conventions.md, S7).

A tight-binding chain of N spinless-fermion sites, ħ = k_B = e = 1,

    H = ε Σ_j c_j^† c_j − t Σ_j (c_j^† c_{j+1} + h.c.),   band ε − 2t … ε + 2t,

coupled at site 1 to a lead at (T_L, μ_L) and at site N to a lead at (T_R, μ_R), each with
tunnelling rate Γ (``coupling``). Parameters (binding names): ``temperature`` is the mean and
``drive`` = ΔT the difference of the lead temperatures, T_L = temperature + drive/2,
T_R = temperature − drive/2; ``density`` is the mean chemical potential μ and ``bias``
= μ_L − μ_R, μ_L = μ + bias/2, μ_R = μ − bias/2; explicit ``T_left``, ``T_right``,
``mu_left``, ``mu_right`` override the derived values.

Bath model (``bath``):

* ``"wideband"`` (default): semi-infinite leads in the wide-band limit (energy-independent
  level broadening Γ, self-energy −iΓ/2 on the end sites). The NESS correlation matrix is the
  exact NEGF result ρ1 = Σ_b Γ ∫ dE/2π f_b(E) G^R e_b e_b^T G^A, evaluated in closed form
  (:func:`ness_core.solvers.gaussian.lead_steady_state`). This is the exact steady state of
  chain + leads: it reduces to the Landauer–Büttiker currents, its equal-lead state is the
  equilibrium state of the open chain, and σ = ∫ dE/2π 𝒯(E) (f_L − f_R)(x_R − x_L) ≥ 0 with
  x_b = (E − μ_b)/T_b, so the second law holds for every parameter.
* ``"local"``: Lindblad leads on the end sites with gain Γ f_b(ε) and loss Γ (1 − f_b(ε)),
  the lead Fermi function evaluated at the site energy ε. This is the wide-band model with
  the energy dependence of f_b dropped; it is a Lyapunov equation for ρ1. For this uniform
  chain its heat currents are J_Q,b = (ε − μ_b) J (the nearest-neighbour Re ρ1 vanish by the
  chiral symmetry), so σ = J (x_R − x_L)|_{E=ε} ≥ 0 still holds, but the thermodynamics is
  wrong: heat is carried at the single energy ε only (no heat current at ε = μ for any ΔT,
  no conductance quantum), and the equal-lead state is f(ε)·1, not the Gibbs state.

Either way the second law is checked at every point: a negative σ beyond round-off is reported
in ``status`` as "second law violated by the <bath> bath model: σ = …".

Observables and conventions:

* ``current``: particle current from left to right through the bond (1, 2), from ρ1;
* ``heat_current_left``, ``heat_current_right``: J_Q,b = J_E,b − μ_b J_N,b, heat flowing from
  lead b into the chain; J_E through the bond (1, 2) from ρ1 (an interior bond needs N ≥ 3);
  their sum is −bias·current (Joule heat);
* ``entropy_production``: σ = −J_Q,L/T_L − J_Q,R/T_R ≥ 0, +inf where a T = 0 lead absorbs heat;
* ``gap``: the relaxation rate of physical (parity-even) observables, 2 min_k |Im z_k|, z_k the
  eigenvalues of H_eff = H − (iΓ/2)(P_1 + P_N) (the damping matrix of both bath models): the
  Liouvillian eigenvalues are sums of rapidities −i z_k (annihilation, z̄_k creation side),
  a single one only for the parity-odd operators (a lone c_j, which no physical observable
  is), the slowest even mode, e.g. the decay of δ⟨c_j^† c_l⟩ at −i(z_k − z̄_k), pairs two
  (Prosen 2008; docs/conventions.md: the gap of fermions is the parity-even one). So the
  wire's gap is that of ``xxz`` at Δ_z = 0 for the Jordan–Wigner-equivalent XX chain
  (``hopping`` = 2, ``coupling`` = Γ, any μ, checked in the tests); it closes as
  π²Γ/N³-like band-edge modes;
* ``single_particle_gap``: min_k |Im z_k|, the decay rate of the single-fermion (odd) mode,
  half the ``gap`` (before this convention it was reported as ``gap``);
* ``occupation_profile``: ⟨n_j⟩ along the chain;
* ``mutual_information``: I(A:B) of the halves A = sites 1..⌊N/2⌋, B = the rest (nats);
* the two-temperature chimera, dims ``mode`` (m = 1..N): ``mode_energy`` E_m = ε − 2t cos k_m,
  k_m = πm/(N+1), the eigenenergies of the isolated chain; ``occupation_right_movers`` and
  ``occupation_left_movers`` n_m^±, the occupations of the running waves e^{±ik_m j} that make
  up the standing mode sin(k_m j) (group velocity ±2t sin k_m), as normalised wave packets
  with envelope sin(πj/(N+1)) (:func:`ness_core.solvers.gaussian.running_wave_occupations`:
  momentum resolution π/(N+1), bias (π/(N+1))²/2 · ∂²n/∂k²); ``fermi_left``,
  ``fermi_right``: f_L(E_m), f_R(E_m) beside them. Scattering theory for the wide-band
  leads (each end reflects a wave with probability
  R(k) = (1 + g² − 2g sin k)/(1 + g² + 2g sin k), g = Γ/2t, from the end-site self-energy
  −iΓ/2 against the chain's −t e^{ik}) gives n^+ = (f_L + R f_R)/(1 + R),
  n^− = (f_R + R f_L)/(1 + R) at E_m, whatever the Fabry–Pérot phase: right movers carry the
  left lead's Fermi function and left movers the right lead's, exactly where the contacts
  are reflectionless (Γ = 2t at the band centre), and a mixture weighted by R elsewhere
  (R → 1 at the band edges, where both movers carry (f_L + f_R)/2);
* ``landauer_current``, ``landauer_heat_current`` (heat from the left lead): the Landauer–
  Büttiker integrals ∫ dE/2π 𝒯(E)(f_L − f_R) (times E − μ_L) with the analytic transmission
  𝒯(E) = Γ²/|t U_N(x) + iΓ U_{N−1}(x) − Γ² U_{N−2}(x)/(4t)|², x = (E − ε)/2t (Chebyshev U),
  by ``scipy.integrate.quad`` with the band edges and μ_b as breakpoints.

Linear response: the thermal conductance κ = J_Q/ΔT at bias 0 tends to
(1/T)∫ dE/2π 𝒯(E)(E − μ)²(−∂f/∂E) → 𝒯(μ)·πT/6 at low T, i.e. 𝒯(μ) quanta π²k_B²T/(3h)
(Pendry 1983; Schwab et al. 2000); a single perfectly transmitting channel carries πT/6.

References: R. Landauer, IBM J. Res. Dev. 1, 223 (1957); M. Büttiker, Phys. Rev. Lett. 57,
1761 (1986); A.-P. Jauho, N. S. Wingreen & Y. Meir, Phys. Rev. B 50, 5528 (1994);
A. Levy & R. Kosloff, EPL 107, 20004 (2014) (local master equations and the second law);
G. T. Landi, D. Poletti & G. Schaller, Rev. Mod. Phys. 94, 045006 (2022).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.integrate import quad

from ness_core.model import (
    Model,
    Observable,
    Parameter,
    check_bath_temperatures,
    two_bath_temperatures,
)
from ness_core.solvers.gaussian import (
    COLD,
    Lead,
    clausius_entropy_production,
    cut_current,
    fermion_mutual_information,
    lead_steady_state,
    running_wave_occupations,
)
from ness_core.status import combine

# Fermi tails beyond this many temperatures from μ_b are below e^-40 and left out of quad.
FERMI_WINDOW = 40.0


def lead_parameters(params: dict[str, Any]) -> tuple[float, float, float, float]:
    """(T_L, T_R, μ_L, μ_R) from the axes, explicit values overriding the derived ones."""
    t_left, t_right = two_bath_temperatures(params)
    mu_left = params["density"] + params["bias"] / 2
    mu_right = params["density"] - params["bias"] / 2
    return (
        t_left,
        t_right,
        mu_left if params["mu_left"] is None else params["mu_left"],
        mu_right if params["mu_right"] is None else params["mu_right"],
    )


def transmission(energy: float, n: int, hopping: float, onsite: float, coupling: float) -> float:
    """Landauer transmission 𝒯(E) = Γ² |G^R_{1N}(E)|² of the uniform chain, wide-band leads.

    det(E − H_eff) = t^{N−1} [t U_N(x) + iΓ U_{N−1}(x) − Γ² U_{N−2}(x)/(4t)], x = (E − ε)/2t,
    with U_n(cos q) = sin((n+1)q)/sin q inside the band and U_n(±cosh κ)
    = (±1)^n sinh((n+1)κ)/sinh κ outside; G_{1N} = t^{N−1}/det.
    """
    x = (energy - onsite) / (2 * hopping)
    if abs(x) < 1:
        q = math.acos(x)
        s = math.sin(q)
        u = [math.sin(m * q) / s for m in (n + 1, n, n - 1)]
    else:
        kappa = math.acosh(abs(x))
        if n * kappa > 300:  # evanescent: 𝒯 < e^-600
            return 0.0
        sign = 1.0 if x > 0 else -1.0
        u = [sign ** (m - 1) * (math.sinh(m * kappa) / math.sinh(kappa) if kappa > 0 else m)
             for m in (n + 1, n, n - 1)]
    real = hopping * u[0] - coupling**2 * u[2] / (4 * hopping)
    imag = coupling * u[1]
    return coupling**2 / (real * real + imag * imag)


class Wire(Model):
    """Tight-binding quantum wire between two fermionic leads (docs/conventions.md, S7).

    Conventions, bath models, units and references are in the module docstring of
    :mod:`ness_core.models.wire`. Cost O(N³) (closed-form eigenvectors of the damping matrix,
    matrix products, entropies); N = 1000 takes about a second.
    """

    name = "wire"
    summary = "tight-binding chain between hot and cold leads: exact Gaussian NESS, Landauer"
    revision = 1  # the conventions of docs/conventions.md (and one status vocabulary)
    dimension_lengths = {"site": "N", "mode": "N"}
    parameters = (
        Parameter("N", 20, "sites", "number of sites (interior bonds need N >= 3)", kind=int,
                  low=3, high=4000, symbol=r"$N$"),
        Parameter("hopping", 1.0, "energy", "hopping amplitude t (band ε − 2t … ε + 2t)",
                  low=0.0, low_inclusive=False, symbol=r"$t$"),
        Parameter("onsite", 0.0, "energy", "on-site energy ε", symbol=r"$\varepsilon$"),
        Parameter("coupling", 1.0, "energy", "lead tunnelling rate Γ (level broadening)",
                  low=0.0, low_inclusive=False, symbol=r"$\Gamma$"),
        Parameter("temperature", 1.0, "energy", "mean lead temperature (T_L + T_R)/2",
                  low=0.0, axis="temperature", symbol=r"$T$"),
        Parameter("drive", 0.0, "energy", "lead temperature difference ΔT = T_L − T_R",
                  axis="drive", symbol=r"$\Delta T$"),
        Parameter("density", 0.0, "energy", "mean chemical potential μ = (μ_L + μ_R)/2",
                  axis="density", symbol=r"$\mu$"),
        Parameter("bias", 0.0, "energy", "voltage bias μ_L − μ_R", symbol=r"$\Delta\mu$"),
        Parameter("T_left", None, "energy", "left lead temperature (default: derived)", low=0.0),
        Parameter("T_right", None, "energy", "right lead temperature (default: derived)",
                  low=0.0),
        Parameter("mu_left", None, "energy", "left chemical potential (default: derived)"),
        Parameter("mu_right", None, "energy", "right chemical potential (default: derived)"),
        Parameter("bath", "wideband", "", "bath model: exact wide-band leads or local Lindblad",
                  kind=str, choices=("wideband", "local")),
    )
    observables = (
        Observable("current", "1/time", "particle current from the left to the right lead",
                   symbol=r"$J$"),
        Observable("heat_current_left", "energy/time", "heat current from the left lead",
                   symbol=r"$J_Q$"),
        Observable("heat_current_right", "energy/time", "heat current from the right lead"),
        Observable("entropy_production", "k_B/time", "entropy production −Σ_b J_Q,b/T_b",
                   symbol=r"$\sigma$"),
        Observable("gap", "1/time", "spectral gap of physical (parity-even) observables, "
                   "2·single_particle_gap", symbol=r"$g$"),
        Observable("single_particle_gap", "1/time", "slowest single-fermion decay rate "
                   "min_k |Im z_k| of the damping matrix (parity-odd)"),
        Observable("occupation_profile", "1", "site occupation ⟨n_j⟩", dims=("site",)),
        Observable("mutual_information", "nat", "mutual information between the two halves",
                   symbol=r"$I$"),
        Observable("mode_energy", "energy", "energy of the chain eigenmode", dims=("mode",)),
        Observable("occupation_right_movers", "1", "occupation of the right-moving wave",
                   dims=("mode",)),
        Observable("occupation_left_movers", "1", "occupation of the left-moving wave",
                   dims=("mode",)),
        Observable("fermi_left", "1", "left-lead Fermi function at the mode energy",
                   dims=("mode",)),
        Observable("fermi_right", "1", "right-lead Fermi function at the mode energy",
                   dims=("mode",)),
        Observable("landauer_current", "1/time", "Landauer–Büttiker particle current"),
        Observable("landauer_heat_current", "energy/time",
                   "Landauer–Büttiker heat current from the left lead"),
    )

    equilibrium = ("drive = 0 and bias = 0 (T_L = T_R, μ_L = μ_R; explicit T_left, T_right, "
                   "mu_left, mu_right equal), any mean T and μ")
    equilibrium_examples = ({"N": 6}, {"N": 5, "temperature": 0.4, "density": 0.3},
                            {"N": 4, "T_left": 0.7, "T_right": 0.7, "mu_left": -0.2,
                             "mu_right": -0.2, "bath": "local"})

    def is_equilibrium(self, params: dict[str, Any]) -> bool:
        """Leads at equal temperature and chemical potential."""
        t_left, t_right, mu_left, mu_right = lead_parameters(params)
        return t_left == t_right and mu_left == mu_right

    def check(self, params: dict[str, Any]) -> None:
        check_bath_temperatures(params)

    def cost_estimate(self, params: dict[str, Any]) -> float:
        return 0.02 + 1.5 * (params["N"] / 1000) ** 3

    def memory_estimate(self, params: dict[str, Any]) -> float | None:
        """MB: some 25 dense N × N float matrices at once (Hamiltonian, eigenbasis,
        correlation matrix, the lead terms, mutual-information blocks); measured 186 MB
        at N = 1000, 712 MB at N = 2000, 3.2 GB at N = 4000 (190–210 B per N²): 250 B."""
        return 250 * params["N"] ** 2 / 2**20

    def solve(self, params: dict[str, Any]) -> dict[str, Any]:
        n, t, eps, gamma = params["N"], params["hopping"], params["onsite"], params["coupling"]
        t_left, t_right, mu_left, mu_right = lead_parameters(params)
        leads = [Lead(0, gamma, t_left, mu_left), Lead(n - 1, gamma, t_right, mu_right)]
        h = eps * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
        k = np.arange(1, n + 1)
        energies = eps - 2 * t * np.cos(np.pi * k / (n + 1))
        basis = math.sqrt(2 / (n + 1)) * np.sin(np.pi * np.outer(k, k) / (n + 1))
        occupations = "fermi" if params["bath"] == "wideband" else "local"
        state = lead_steady_state(h, leads, occupations, eigenbasis=(energies, basis))
        rho = state.correlation

        hs = sp.csr_array(h)
        right = np.arange(1, n)  # the cut is the bond (1, 2): everything right of site 1
        in_right = sp.diags_array(np.r_[0.0, np.ones(n - 1)])
        current = cut_current(hs, rho, right, in_right)
        energy_current = cut_current(hs, rho, right, in_right @ hs @ in_right)
        heat_left = energy_current - mu_left * current
        heat_right = -energy_current + mu_right * current
        scale = gamma * (t + abs(eps) + abs(mu_left) + abs(mu_right) + t_left + t_right)
        sigma = clausius_entropy_production((heat_left, heat_right), (t_left, t_right),
                                            tol=1e-9 * scale)
        status = state.status
        entropy_scale = sum(abs(j) / tb for j, tb in ((heat_left, t_left), (heat_right, t_right))
                            if tb > 0)
        if sigma < -1e-8 * max(entropy_scale, 1e-300) - 1e-12 * gamma:
            status = combine(status, f"second law violated by the {params['bath']} bath model: "
                                     f"σ = {sigma:.3g}")
        _, right_movers, left_movers = running_wave_occupations(rho)
        landauer, landauer_heat, quad_status = landauer_currents(n, t, eps, gamma, leads)
        status = combine(status, quad_status)
        return {
            "current": current,
            "heat_current_left": heat_left,
            "heat_current_right": heat_right,
            "entropy_production": sigma,
            "gap": 2 * state.gap,
            "single_particle_gap": state.gap,
            "occupation_profile": np.real(np.diag(rho)).copy(),
            "mutual_information": fermion_mutual_information(rho, np.arange(n // 2)),
            "mode_energy": energies,
            "occupation_right_movers": right_movers,
            "occupation_left_movers": left_movers,
            "fermi_left": leads[0].fermi(energies),
            "fermi_right": leads[1].fermi(energies),
            "landauer_current": landauer,
            "landauer_heat_current": landauer_heat,
            "residual": state.residual,
            "status": status,
            "note": state.note,
        }


def landauer_currents(n: int, hopping: float, onsite: float, coupling: float,
                      leads: list[Lead]) -> tuple[float, float, str]:
    """Landauer–Büttiker particle current and heat current from the left lead.

    J = ∫ dE/2π 𝒯(E) (f_L − f_R) and J_Q,L = ∫ dE/2π (E − μ_L) 𝒯(E) (f_L − f_R), by adaptive
    quadrature on the window where f_L ≠ f_R (±40 T_b around μ_b), split at the band edges
    ε ± 2t and at μ_L, μ_R. Returns (J, J_Q,L, status) with status ``"ok"`` or the quadrature's
    complaint.
    """
    left, right = leads
    lo = min(lead.chemical_potential - FERMI_WINDOW * lead.temperature for lead in leads)
    hi = max(lead.chemical_potential + FERMI_WINDOW * lead.temperature for lead in leads)
    cuts = [onsite - 2 * hopping, onsite + 2 * hopping, left.chemical_potential,
            right.chemical_potential]
    edges = sorted({lo, hi, *(c for c in cuts if lo < c < hi)})

    def window(energy: float) -> float:
        occupation = [0.5 * (1 - math.tanh((energy - lead.chemical_potential)
                                           / (2 * lead.temperature))) if lead.temperature >= COLD
                      else float(lead.fermi(energy)) for lead in leads]
        return (occupation[0] - occupation[1]) / (2 * math.pi) * transmission(
            energy, n, hopping, onsite, coupling)

    particle = heat = 0.0
    status = "ok"
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        for weight in ("particle", "heat"):
            def integrand(e: float, weight: str = weight) -> float:
                factor = 1.0 if weight == "particle" else e - left.chemical_potential
                return factor * window(e)
            out = quad(integrand, a, b, limit=max(200, 4 * n), epsabs=1e-14, epsrel=1e-10,
                       full_output=1)
            if len(out) > 3:  # quad appends a message when it is unhappy
                status = f"landauer quadrature: {out[3].splitlines()[0]}"
            if weight == "particle":
                particle += out[0]
            else:
                heat += out[0]
    return particle, heat, status
