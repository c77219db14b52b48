"""The `harmonic_chain` model against Rieder–Lebowitz–Lieb (1967) and equipartition."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ness_core import evaluate
from ness_core.errors import ParameterError


def rll(mass: float, stiffness: float, friction: float, delta_t: float) -> float:
    """RLL N → ∞ current (k ΔT/2λ)[1 + ν/2 − (ν/2)√(1 + 4/ν)], ν = k m/λ² (Dhar 2008, Sec. 3.1)."""
    nu = stiffness * mass / friction**2
    return stiffness * delta_t / (2 * friction) * (1 + nu / 2 - nu / 2 * math.sqrt(1 + 4 / nu))


@pytest.mark.parametrize(("mass", "stiffness", "friction"),
                         [(1.0, 1.0, 1.0), (1.0, 1.0, 0.3), (2.0, 0.5, 1.5)])
def test_current_matches_rieder_lebowitz_lieb_closed_form(mass, stiffness, friction) -> None:
    out = evaluate("harmonic_chain", N=40, mass=mass, stiffness=stiffness, friction=friction,
                   temperature=1.0, drive=1.0)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(rll(mass, stiffness, friction, 1.0), rel=1e-8)


def test_current_is_independent_of_length() -> None:
    currents = [evaluate("harmonic_chain", N=n, T_left=2.0, T_right=0.5)["current"]
                for n in (16, 32, 64)]
    assert currents == pytest.approx([rll(1.0, 1.0, 1.0, 1.5)] * 3, rel=1e-8)


def test_bulk_profile_is_flat_at_the_mean_with_inverted_jumps_at_the_ends() -> None:
    t_left, t_right = 1.6, 0.4
    mean = (t_left + t_right) / 2
    profile = evaluate("harmonic_chain", N=60, T_left=t_left, T_right=t_right)[
        "temperature_profile"]
    assert np.max(np.abs(profile[10:-10] - mean)) < 1e-3 * (t_left - t_right)
    assert profile[1] < mean < profile[-2]  # RLL: the second mass from the hot end is colder
    assert t_right < profile[-1] < mean < profile[0] < t_left


def test_equal_baths_give_equipartition_and_no_current() -> None:
    out = evaluate("harmonic_chain", N=15, temperature=0.8, mass=1.7, stiffness=0.6)
    assert np.allclose(out["temperature_profile"], 0.8, atol=1e-12)
    assert abs(out["current"]) < 1e-13
    assert abs(out["entropy_production"]) < 1e-12


def test_entropy_production_is_clausius_and_infinite_for_a_zero_temperature_bath() -> None:
    out = evaluate("harmonic_chain", N=10, T_left=1.5, T_right=0.5)
    assert out["entropy_production"] == pytest.approx(out["current"] * (1 / 0.5 - 1 / 1.5))
    assert out["entropy_production"] > 0
    assert evaluate("harmonic_chain", N=10, T_left=1.0, T_right=0.0)["entropy_production"] \
        == math.inf


def test_gap_of_two_damped_masses_is_half_the_friction_rate() -> None:
    """N = 2, m = k = 1, λ = 0.4: both masses are damped, so the normal modes (ω² = 1, 3)
    decouple and decay as s² + λ s + ω² = 0, Re s = −λ/2 = −0.2."""
    out = evaluate("harmonic_chain", N=2, friction=0.4)
    assert out["gap"] == pytest.approx(0.2, rel=1e-12)


def test_negative_bath_temperature_is_rejected() -> None:
    with pytest.raises(ParameterError, match="drive"):
        evaluate("harmonic_chain", temperature=0.5, drive=2.0)
