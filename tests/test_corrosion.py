"""Corrosion: Butler–Volmer + diffusion layer against electrochemistry's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
from scipy import constants

from ness_core import evaluate
from ness_core.errors import ParameterError

F = constants.e * constants.N_A
R = constants.R


def nernst(temperature: float, c_b: float, z: int = 2) -> float:
    """E_eq − E° = (RT/zF) ln(c_b/c°), c° = 1000 mol/m³."""
    return R * temperature / (z * F) * math.log(c_b / 1000.0)


def limiting(c_b: float, z: int = 2, d: float = 7e-10, delta: float = 1e-4) -> float:
    """i_L = zFDc_b/δ."""
    return z * F * d * c_b / delta


@pytest.mark.parametrize("temperature, c_b", [(298.15, 10.0), (338.15, 100.0), (278.15, 1.0)])
def test_zero_current_and_entropy_at_the_nernst_potential(temperature, c_b):
    out = evaluate("corrosion", drive=nernst(temperature, c_b), temperature=temperature,
                   density=c_b)
    assert abs(out["current"]) < 1e-10 * out["exchange_current"]
    assert abs(out["entropy_production"]) < 1e-6  # k_B/(s·m²); ~1e20 at η = 60 mV


def test_current_matches_closed_form_with_mass_transport():
    c_b, t, alpha = 10.0, 298.15, 0.4
    f = 2 * F / (R * t)
    i0 = 10.0 * (c_b / 1000) ** alpha
    i_l = limiting(c_b)
    for eta in (-0.2, -0.03, 0.01, 0.12):
        out = evaluate("corrosion", drive=nernst(t, c_b) + eta, density=c_b, alpha=alpha)
        back = math.exp(-(1 - alpha) * f * eta)
        exact = i0 * (math.exp(alpha * f * eta) - back) / (1 + i0 / i_l * back)
        assert out["current"] == pytest.approx(exact, rel=1e-10)
        assert out["surface_concentration"] == pytest.approx(c_b * (1 + exact / i_l), rel=1e-10)


def polarisation_resistance(**params) -> tuple[float, float]:
    """Symmetric difference dη/di at E_eq; also the exchange current of the point."""
    e_eq = nernst(298.15, params.get("density", 10.0))
    h = 1e-6
    plus = evaluate("corrosion", drive=e_eq + h, **params)
    minus = evaluate("corrosion", drive=e_eq - h, **params)
    return 2 * h / (plus["current"] - minus["current"]), plus["exchange_current"]


def test_polarisation_resistance_is_rt_over_zf_i0_in_the_kinetic_limit():
    r_p, i0 = polarisation_resistance(layer_thickness=1e-9)  # i_L = 1.35e6 A/m² ≫ i0 = 1
    assert r_p == pytest.approx(R * 298.15 / (2 * F * i0), rel=1e-5)


def test_polarisation_resistance_adds_the_mass_transport_resistance():
    r_p, i0 = polarisation_resistance()
    assert r_p == pytest.approx(R * 298.15 / (2 * F) * (1 / i0 + 1 / limiting(10.0)), rel=1e-7)


@pytest.mark.parametrize("alpha, z", [(0.5, 2), (0.3, 1)])
def test_anodic_tafel_slope_is_ln10_rt_over_alpha_zf(alpha, z):
    e_eq = nernst(298.15, 10.0, z)
    hi = evaluate("corrosion", drive=e_eq + 0.65, alpha=alpha, z=z)
    lo = evaluate("corrosion", drive=e_eq + 0.60, alpha=alpha, z=z)
    slope = 0.05 / (hi["log10_abs_current"] - lo["log10_abs_current"])
    # corrections to the asymptote: e^{−fη} and (i0/i_L) e^{−(1−α)fη}, both < 1e-7 here
    assert slope == pytest.approx(math.log(10) * R * 298.15 / (alpha * z * F), rel=1e-6)


@pytest.mark.parametrize("c_b", [1.0, 10.0, 100.0])
def test_cathodic_current_saturates_at_the_limiting_current(c_b):
    out = evaluate("corrosion", drive=nernst(298.15, c_b) - 0.8, density=c_b)
    assert out["current"] == pytest.approx(-limiting(c_b), rel=1e-9)
    assert out["limiting_current"] == pytest.approx(limiting(c_b), rel=1e-14)


def test_entropy_production_nonnegative_and_equal_to_exported():
    for e in np.linspace(-1.0, 0.5, 16):
        out = evaluate("corrosion", drive=float(e))
        assert out["entropy_production"] >= 0
        assert abs(out["entropy_balance"]) < 1e-9


@pytest.mark.parametrize("eta", [-0.3, 0.0, 0.05])
def test_gap_is_the_slowest_robin_diffusion_mode(eta):
    """Mode sin(ω(δ − x)) with tan(ωδ) = −Dω/k, k = i0 e^{−(1−α)fη}/(zF c_b); gap = Dω²."""
    d, delta, c_b = 7e-10, 1e-4, 10.0
    out = evaluate("corrosion", drive=nernst(298.15, c_b) + eta, cells=100, max_cells=400)
    k = out["exchange_current"] * math.exp(-0.5 * 2 * F / (R * 298.15) * eta) / (2 * F * c_b)
    w = scipy.optimize.brentq(lambda x: math.sin(x) * k + d / delta * x * math.cos(x),
                              math.pi / 2, math.pi, xtol=1e-15)
    assert out["gap"] == pytest.approx(d * (w / delta) ** 2, rel=1e-4)


@pytest.mark.parametrize("bad", [{"density": -1.0}, {"density": 0.0}, {"alpha": 1.0},
                                 {"z": 0}, {"temperature": 10.0}, {"colour": 1}])
def test_bad_input_raises_parameter_error(bad):
    with pytest.raises(ParameterError):
        evaluate("corrosion", **bad)


def test_grid_refinement_needs_three_grids():
    with pytest.raises(ParameterError, match="max_cells"):
        evaluate("corrosion", cells=100, max_cells=200)
