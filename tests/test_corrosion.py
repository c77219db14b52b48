"""Corrosion: Butler–Volmer + diffusion layer against electrochemistry's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
from scipy import constants

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models import get_model

F = constants.e * constants.N_A
R = constants.R


def nernst(temperature: float, c_b: float, z: int = 2) -> float:
    """E_eq − E° = (RT/zF) ln(c_b/c°), c° = 1000 mol/m³."""
    return R * temperature / (z * F) * math.log(c_b / 1000.0)


def limiting(c_b: float, z: int = 2, d: float = 7e-10, delta: float = 1e-4) -> float:
    """i_L = zFDc_b/δ."""
    return z * F * d * c_b / delta


@pytest.mark.parametrize("temperature, c_b", [(298.15, 10.0), (338.15, 100.0), (278.15, 1.0)])
def test_zero_drive_is_the_nernst_potential_without_current_or_entropy(temperature, c_b):
    """drive = η = E − E_eq: at drive = 0 the electrode sits at E_eq − E° = (RT/zF) ln(c_b/c°),
    where Butler–Volmer gives i = i₀ (1 − c_s/c_b) = 0 with the uniform bulk c_s = c_b."""
    out = evaluate("corrosion", drive=0.0, temperature=temperature, density=c_b)
    assert abs(out["current"]) < 1e-10 * out["exchange_current"]
    assert abs(out["entropy_production"]) < 1e-6  # k_B/(s·m²); ~1e20 at η = 60 mV
    assert out["electrode_potential"] == pytest.approx(nernst(temperature, c_b), rel=1e-12)
    assert out["surface_concentration"] == pytest.approx(c_b, rel=1e-12)


def test_drive_is_the_overpotential_not_the_potential_against_e_standard():
    """The old convention drive = E − E° put drive = 0 at η = −E_eq = 59.2 mV (c_b = 10),
    i = i₀ (e^{αfη} − e^{−(1−α)fη})/(1 + (i₀/i_L) e^{−(1−α)fη}) ≈ 9.83 A/m²; now that point is
    drive = −E_eq and the electrode potential E − E° = 0 there."""
    c_b, t = 10.0, 298.15
    eta = -nernst(t, c_b)
    f = 2 * F / (R * t)
    i0, i_l = 10.0 * (c_b / 1000) ** 0.5, limiting(c_b)
    back = math.exp(-0.5 * f * eta)
    exact = i0 * (math.exp(0.5 * f * eta) - back) / (1 + i0 / i_l * back)
    out = evaluate("corrosion", drive=eta)
    assert exact == pytest.approx(9.83, abs=0.01)
    assert out["current"] == pytest.approx(exact, rel=1e-10)
    assert out["overpotential"] == eta
    assert abs(out["electrode_potential"]) < 1e-15
    assert get_model("corrosion").is_equilibrium(get_model("corrosion").resolve({}))
    assert not get_model("corrosion").is_equilibrium(get_model("corrosion").resolve(
        {"drive": eta}))


def test_current_matches_closed_form_with_mass_transport():
    c_b, t, alpha = 10.0, 298.15, 0.4
    f = 2 * F / (R * t)
    i0 = 10.0 * (c_b / 1000) ** alpha
    i_l = limiting(c_b)
    for eta in (-0.2, -0.03, 0.01, 0.12):
        out = evaluate("corrosion", drive=eta, density=c_b, alpha=alpha)
        back = math.exp(-(1 - alpha) * f * eta)
        exact = i0 * (math.exp(alpha * f * eta) - back) / (1 + i0 / i_l * back)
        assert out["current"] == pytest.approx(exact, rel=1e-10)
        assert out["surface_concentration"] == pytest.approx(c_b * (1 + exact / i_l), rel=1e-10)


def polarisation_resistance(**params) -> tuple[float, float]:
    """Symmetric difference dη/di at E_eq (η = 0); also the exchange current of the point."""
    h = 1e-6
    plus = evaluate("corrosion", drive=h, **params)
    minus = evaluate("corrosion", drive=-h, **params)
    return 2 * h / (plus["current"] - minus["current"]), plus["exchange_current"]


def test_polarisation_resistance_is_rt_over_zf_i0_in_the_kinetic_limit():
    r_p, i0 = polarisation_resistance(layer_thickness=1e-9)  # i_L = 1.35e6 A/m² ≫ i0 = 1
    assert r_p == pytest.approx(R * 298.15 / (2 * F * i0), rel=1e-5)


def test_polarisation_resistance_adds_the_mass_transport_resistance():
    r_p, i0 = polarisation_resistance()
    assert r_p == pytest.approx(R * 298.15 / (2 * F) * (1 / i0 + 1 / limiting(10.0)), rel=1e-7)


@pytest.mark.parametrize("alpha, z", [(0.5, 2), (0.3, 1)])
def test_anodic_tafel_slope_is_ln10_rt_over_alpha_zf(alpha, z):
    hi = evaluate("corrosion", drive=0.65, alpha=alpha, z=z)
    lo = evaluate("corrosion", drive=0.60, alpha=alpha, z=z)
    slope = 0.05 / (hi["log10_abs_current"] - lo["log10_abs_current"])
    # corrections to the asymptote: e^{−fη} and (i0/i_L) e^{−(1−α)fη}, both < 1e-7 here
    assert slope == pytest.approx(math.log(10) * R * 298.15 / (alpha * z * F), rel=1e-6)


@pytest.mark.parametrize("c_b", [1.0, 10.0, 100.0])
def test_cathodic_current_saturates_at_the_limiting_current(c_b):
    out = evaluate("corrosion", drive=-0.8, density=c_b)
    assert out["current"] == pytest.approx(-limiting(c_b), rel=1e-9)
    assert out["limiting_current"] == pytest.approx(limiting(c_b), rel=1e-14)


def test_entropy_production_nonnegative_and_equal_to_exported():
    for e in np.linspace(-1.0, 0.5, 16) - nernst(298.15, 10.0):  # η, clear of η ≈ 0
        out = evaluate("corrosion", drive=float(e))
        assert out["entropy_production"] >= 0
        assert abs(out["entropy_balance"]) < 1e-9


@pytest.mark.parametrize("eta", [-0.3, 0.0, 0.05])
def test_gap_is_the_slowest_robin_diffusion_mode(eta):
    """Mode sin(ω(δ − x)) with tan(ωδ) = −Dω/k, k = i0 e^{−(1−α)fη}/(zF c_b); gap = Dω²."""
    d, delta, c_b = 7e-10, 1e-4, 10.0
    out = evaluate("corrosion", drive=eta, cells=100, max_cells=400)
    k = out["exchange_current"] * math.exp(-0.5 * 2 * F / (R * 298.15) * eta) / (2 * F * c_b)
    w = scipy.optimize.brentq(lambda x: math.sin(x) * k + d / delta * x * math.cos(x),
                              math.pi / 2, math.pi, xtol=1e-15)
    assert out["gap"] == pytest.approx(d * (w / delta) ** 2, rel=1e-4)


@pytest.mark.parametrize("eta", [0.0, -0.3])
def test_gap_at_default_grid_settings_meets_rtol(eta):
    """Refinement monitors the gap as well as the current: at the default rtol = 1e-6 the
    gap matches the exact Robin mode to that tolerance (it was 5e-6 to 2e-5 low when only
    the current, exact on every grid, stopped the refinement at 200 cells)."""
    d, delta, c_b = 7e-10, 1e-4, 10.0
    out = evaluate("corrosion", drive=eta)
    k = out["exchange_current"] * math.exp(-0.5 * 2 * F / (R * 298.15) * eta) / (2 * F * c_b)
    w = scipy.optimize.brentq(lambda x: math.sin(x) * k + d / delta * x * math.cos(x),
                              math.pi / 2, math.pi, xtol=1e-15)
    exact = d * (w / delta) ** 2
    assert out["status"] == "ok"
    assert out["gap"] == pytest.approx(exact, rel=1e-6)
    assert out["grid_relative_error"] <= 1e-6
    assert abs(out["gap"] - exact) / exact < 3 * out["grid_relative_error"]


@pytest.mark.parametrize("bad", [{"density": -1.0}, {"density": 0.0}, {"alpha": 1.0},
                                 {"z": 0}, {"temperature": 10.0}, {"colour": 1}])
def test_bad_input_raises_parameter_error(bad):
    with pytest.raises(ParameterError):
        evaluate("corrosion", **bad)


def test_grid_refinement_needs_three_grids():
    with pytest.raises(ParameterError, match="max_cells"):
        evaluate("corrosion", cells=100, max_cells=200)


# --- Nernst–Planck transport with migration (finite supporting-electrolyte ratio) ---------

D_ANION = 1.065e-9  # default anion diffusivity (SO4^2−, CRC Handbook)


def binary_closed_form(eta: float, z: int, a: int, c_b: float = 10.0, t: float = 298.15,
                       alpha: float = 0.5) -> tuple[float, float]:
    """(i, ψ_s) of a binary salt: zero anion flux gives c ∝ e^{aψ}, the linear profile
    c_s = c_b (1 + i/i_L) with i_L = (1 + z/a) zFDc_b/δ, and Butler–Volmer at η − ΔΦ."""
    f = z * F / (R * t)
    i0 = 10.0 * (c_b / 1000) ** alpha
    i_l = (1 + z / a) * limiting(c_b, z)

    def mismatch(psi: float) -> float:
        x = f * eta - z * psi
        kinetic = i0 * (math.exp(alpha * x) - math.exp(a * psi) * math.exp(-(1 - alpha) * x))
        return kinetic - i_l * math.expm1(a * psi)

    psi = scipy.optimize.brentq(mismatch, -40.0, 40.0, xtol=1e-15, rtol=1e-15)
    return i_l * math.expm1(a * psi), psi


@pytest.mark.parametrize("z, anion", [(2, -2), (2, -1), (1, -2)])
@pytest.mark.parametrize("eta", [-0.3, -0.05, 0.02, 0.15])
def test_binary_salt_current_and_profiles_match_closed_form(z, anion, eta):
    a, c_b = -anion, 10.0
    out = evaluate("corrosion", drive=eta, z=z, anion_charge=anion,
                   supporting_electrolyte=0.0)
    i, psi_s = binary_closed_form(eta, z, a)
    i_l = (1 + z / a) * limiting(c_b, z)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(i, rel=1e-9)
    assert out["layer_potential_drop"] == pytest.approx(R * 298.15 / F * psi_s, rel=1e-9,
                                                        abs=1e-15)
    x = np.linspace(0.0, 1.0, len(out["concentration_profile"]))  # x/δ
    c = c_b * (1 + i / i_l * (1 - x))  # linear profile
    np.testing.assert_allclose(out["concentration_profile"], c, rtol=1e-9)
    np.testing.assert_allclose(out["potential_profile"], R * 298.15 / (a * F) * np.log(c / c_b),
                               rtol=1e-8, atol=1e-15)


def test_binary_limiting_current_is_newman_migration_enhancement():
    """i_L = zF D_salt c_b / ((1 − t₊) δ), D_salt = D D_A (z + a)/(zD + aD_A), t₊ = zD/(zD + aD_A)
    (Newman & Thomas-Alyea, Ch. 19): twice the diffusion limit for a z:z salt."""
    z, a, d, c_b = 2, 2, 7e-10, 10.0
    d_salt = d * D_ANION * (z + a) / (z * d + a * D_ANION)
    t_plus = z * d / (z * d + a * D_ANION)
    newman = z * F * d_salt * c_b / ((1 - t_plus) * 1e-4)
    out = evaluate("corrosion", drive=-1.0, supporting_electrolyte=0.0)
    assert newman == pytest.approx(2 * limiting(c_b), rel=1e-14)
    assert out["current"] == pytest.approx(-newman, rel=1e-9)
    assert out["limiting_current"] == pytest.approx(newman, rel=1e-12)


def ternary_concentration(psi: float, r: float, k: int, a: int) -> tuple[float, float]:
    """c/c_b and d(c/c_b)/dψ of the metal ion when the supporting cation (charge k) and the
    anion (charge −a) are in Boltzmann equilibrium: c = (1 + r) e^{aψ} − r e^{−kψ}."""
    return ((1 + r) * math.exp(a * psi) - r * math.exp(-k * psi),
            (1 + r) * a * math.exp(a * psi) + r * k * math.exp(-k * psi))


def transport_integral(psi: float, r: float, k: int, a: int, z: int) -> float:
    """∫₀^ψ (dc/dψ + z c) dψ / c_b by quadrature: N (δ − x) = D c_b times this."""
    def integrand(p: float) -> float:
        c, dc = ternary_concentration(p, r, k, a)
        return dc + z * c

    return scipy.integrate.quad(integrand, 0.0, psi, epsabs=1e-14, epsrel=1e-13)[0]


@pytest.mark.parametrize("r, k", [(0.2, 1), (1.0, 1), (1.0, 2), (5.0, 3), (100.0, 1)])
def test_limiting_current_with_supporting_electrolyte(r, k):
    z, a, c_b = 2, 2, 10.0
    psi_l = scipy.optimize.brentq(lambda p: ternary_concentration(p, r, k, a)[0], -30.0, 0.0,
                                  xtol=1e-15)
    i_l = -z * F * 7e-10 * c_b * transport_integral(psi_l, r, k, a, z) / 1e-4
    out = evaluate("corrosion", drive=-1.0, supporting_electrolyte=r,
                   supporting_charge=k, rtol=1e-7, max_cells=12800)
    assert out["limiting_current"] == pytest.approx(i_l, rel=1e-10)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(-i_l, rel=3e-7)  # second-order grid error
    # between the diffusion limit (excess salt) and the binary-salt limit (no salt)
    assert limiting(c_b) < i_l < (1 + z / a) * limiting(c_b)


def ternary_closed_form(eta: float, r: float, k: int, z: int = 2, a: int = 2,
                        c_b: float = 10.0) -> tuple[float, float]:
    """(i, ψ_s) with supporting salt: N δ = D c_b ∫₀^{ψ_s}(c' + zc) dψ and Butler–Volmer."""
    f = z * F / (R * 298.15)
    i0 = 10.0 * (c_b / 1000) ** 0.5
    scale = z * F * 7e-10 * c_b / 1e-4

    def mismatch(psi: float) -> float:
        x = f * eta - z * psi
        c_s = ternary_concentration(psi, r, k, a)[0]
        kinetic = i0 * (math.exp(0.5 * x) - c_s * math.exp(-0.5 * x))
        return kinetic - scale * transport_integral(psi, r, k, a, z)

    psi_l = scipy.optimize.brentq(lambda p: ternary_concentration(p, r, k, a)[0], -30.0, 0.0,
                                  xtol=1e-15)
    psi = scipy.optimize.brentq(mismatch, psi_l + 1e-12, 5.0, xtol=1e-15, rtol=1e-15)
    return scale * transport_integral(psi, r, k, a, z), psi


@pytest.mark.parametrize("eta", [-0.1, 0.05])
def test_supporting_electrolyte_profiles_match_implicit_closed_form(eta):
    """ψ(x) solves N (δ − x) = D c_b ∫₀^ψ (c' + zc) dψ; c(x) = c(ψ(x))."""
    r, k, c_b = 1.0, 1, 10.0
    i, psi_s = ternary_closed_form(eta, r, k)
    out = evaluate("corrosion", drive=eta, supporting_electrolyte=r,
                   supporting_charge=k, rtol=1e-8, max_cells=6400, profile_points=11)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(i, rel=2e-8)
    thermal = R * 298.15 / F
    assert out["layer_potential_drop"] == pytest.approx(thermal * psi_s, rel=1e-6)
    scale = 2 * F * 7e-10 * c_b / 1e-4
    for x, c, phi in zip(np.linspace(0, 1, 11), out["concentration_profile"],
                         out["potential_profile"], strict=True):
        psi = 0.0 if x == 1 else scipy.optimize.brentq(
            lambda p, x=x: scale * transport_integral(p, r, k, 2, 2) - i * (1 - x),
            min(psi_s, 0) - 1e-9, max(psi_s, 0) + 1e-9, xtol=1e-15)
        assert phi == pytest.approx(thermal * psi, rel=1e-6, abs=1e-12)
        assert c == pytest.approx(c_b * ternary_concentration(psi, r, k, 2)[0], rel=1e-7)


def test_supporting_electrolyte_grid_convergence_is_second_order():
    from ness_core.models.corrosion import migration_problem
    from ness_core.solvers.continuum import newton

    params = get_model("corrosion").resolve({"supporting_electrolyte": 1.0,
                                             "drive": -0.1})
    exact = ternary_closed_form(-0.1, 1.0, 1)[0]
    errors = []
    for cells in (20, 40, 80, 160):
        problem = migration_problem(cells, params)
        state = newton(problem, problem.uniform(), params["drive"],
                       lower=problem.lower_bounds())
        assert state.status == "ok"
        flux = problem.boundary_flux(problem.state(state.u)[0], params["drive"])[0][0]
        errors.append(abs(2 * F * 10.0 * flux - exact))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    np.testing.assert_allclose(orders, 2.0, atol=0.05)
    out = evaluate("corrosion", **{k: params[k] for k in ("drive", "supporting_electrolyte")},
                   rtol=1e-7)
    assert out["convergence_order"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize("r", [0.0, 0.5, 10.0])
def test_migration_entropy_production_nonnegative_and_balanced(r):
    # η = E − E_eq with E − E° on a grid: away from η ≈ 0, where the relative balance is
    # round-off over round-off (η = 0 itself gives exact zeros, tested above)
    for e in np.linspace(-0.6, 0.2, 9) - nernst(298.15, 10.0):
        out = evaluate("corrosion", drive=float(e), supporting_electrolyte=r)
        assert out["entropy_production"] >= 0
        assert out["migration_entropy_production"] >= 0
        assert abs(out["entropy_balance"]) < 1e-9
        # Ohmic part Σ_faces z N Δψ = i ΔΦ/(k_B T) in the steady state (uniform current)
        ohmic = out["current"] * out["layer_potential_drop"] / (constants.k * 298.15)
        assert out["migration_entropy_production"] == pytest.approx(ohmic, rel=1e-9,
                                                                    abs=1e-9)


@pytest.mark.parametrize("r", [0.0, 1.0])
def test_migration_zero_current_and_entropy_at_zero_overpotential(r):
    out = evaluate("corrosion", drive=0.0, supporting_electrolyte=r)
    assert abs(out["current"]) < 1e-10 * out["exchange_current"]
    assert abs(out["layer_potential_drop"]) < 1e-15
    assert abs(out["entropy_production"]) < 1e-6


def test_binary_gap_is_the_slowest_ambipolar_robin_mode():
    """Linearised electroneutral binary salt at E_eq: ∂δc/∂t = D_salt ∂²δc/∂x² with
    −D_salt δc'(0) = (1 − t₊) δi/(zF), δi = −K δc_s from Butler–Volmer at η − ΔΦ, where the
    Ohmic drop δΦ(0) of the uniform current enters K; mode sin(ω(δ − x)),
    tan(ωδ) = −D_salt ω/k, gap = D_salt ω²."""
    z, a, d, c_b, delta = 2, 1, 7e-10, 10.0, 1e-4
    i0 = 10.0 * (c_b / 1000) ** 0.5
    s = z * d + a * D_ANION
    d_salt, t_plus = d * D_ANION * (z + a) / s, z * d / s
    big_k = (i0 / c_b) * (a + z) * D_ANION / s / (1 + i0 * delta / (F * c_b * s))
    k = (1 - t_plus) * big_k / (z * F)
    w = scipy.optimize.brentq(lambda x: math.sin(x) * k + d_salt / delta * x * math.cos(x),
                              math.pi / 2, math.pi, xtol=1e-15)
    out = evaluate("corrosion", drive=0.0, supporting_electrolyte=0.0,
                   anion_charge=-a, cells=200, max_cells=800)
    assert out["gap"] == pytest.approx(d_salt * (w / delta) ** 2, rel=2e-6)  # O(h²), h = δ/800


def test_profiles_share_one_position_coordinate_whatever_the_grid():
    eta = -0.2 - nernst(298.15, 10.0)  # E − E° = −0.2 V: η = −0.141 V, c_s ≈ 0.08 c_b
    a = evaluate("corrosion", drive=eta, supporting_electrolyte=1.0, cells=50)
    b = evaluate("corrosion", drive=eta, supporting_electrolyte=1.0, cells=30, max_cells=3840)
    assert a["grid_cells"] != b["grid_cells"]
    assert len(a["concentration_profile"]) == len(b["concentration_profile"]) == 51
    np.testing.assert_allclose(a["concentration_profile"], b["concentration_profile"],
                               rtol=1e-6)


def test_unreachable_grid_tolerance_is_a_status_not_an_error():
    out = evaluate("corrosion", drive=-0.2, supporting_electrolyte=1.0, rtol=1e-13,
                   cells=10, max_cells=80)
    assert out["status"].startswith("grid not converged")
    assert math.isfinite(out["current"]) and out["grid_cells"] == 80


@pytest.mark.parametrize("bad", [{"supporting_electrolyte": -1.0}, {"anion_charge": 1},
                                 {"anion_charge": 0}, {"supporting_charge": 0},
                                 {"anion_diffusivity": 0.0}, {"profile_points": 1}])
def test_bad_migration_input_raises_parameter_error(bad):
    with pytest.raises(ParameterError):
        evaluate("corrosion", **bad)


def test_anodic_binary_current_far_above_the_limit_via_the_potential_path():
    """At η ≈ 0.56 V c_s/c_b ≈ 10⁶: Newton from the bulk state fails, the path in E from
    E_eq reaches it, and the current still matches the closed form."""
    from ness_core.models.corrosion import migration_problem
    from ness_core.solvers.continuum import newton

    params = get_model("corrosion").resolve({"drive": 0.56, "supporting_electrolyte": 0.0})
    problem = migration_problem(50, params)
    direct = newton(problem, problem.uniform(), 0.56, lower=problem.lower_bounds())
    assert direct.status != "ok"
    out = evaluate("corrosion", drive=0.56, supporting_electrolyte=0.0)
    assert out["status"] == "ok"
    i, _ = binary_closed_form(0.56, 2, 2)
    assert out["current"] == pytest.approx(i, rel=1e-9)
