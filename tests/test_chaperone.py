"""Hsp70 chaperone cycle (DOMAIN.md S2) against Boltzmann weights and thermodynamic identities."""

from __future__ import annotations

import math

import pytest

from ness_core import evaluate
from ness_core.models import get_model

DEFAULTS = {p.name: p.default for p in get_model("chaperone").parameters}


def boltzmann(**overrides):
    """Equilibrium (drive = 0) populations of the seven states, written out by hand.

    Free states weigh e^{−μ°/T}; a state bound to Hsp70 in nucleotide state Y weighs
    [CY] e^{−μ°/T}, with [CT] = [CD] = density/2 at drive = 0 ([ATP] = [ADP]).
    """
    p = {**DEFAULTS, **overrides}
    t, c = p["temperature"], p["density"] / 2
    mu = {
        "U": (1.0, 0.0), "N": (1.0, p["mu_native"]), "M": (1.0, p["mu_misfolded"]),
        "UT": (c, p["bind_atp_unfolded"]), "MT": (c, p["mu_misfolded"] + p["bind_atp_misfolded"]),
        "UD": (c, p["bind_adp_unfolded"]), "MD": (c, p["mu_misfolded"] + p["bind_adp_misfolded"]),
    }
    w = {s: conc * math.exp(-m / t) for s, (conc, m) in mu.items()}
    z = sum(w.values())
    return {s: v / z for s, v in w.items()}


@pytest.mark.parametrize("params", [
    {}, {"temperature": 0.5}, {"temperature": 2.0, "density": 1.0}, {"atp": 3.0, "mu_native": -4.0},
], ids=["defaults", "cold", "hot-dense", "atp-stable-native"])
def test_zero_drive_is_detailed_balance_with_boltzmann_populations(params):
    r = evaluate("chaperone", drive=0.0, **params)
    p = boltzmann(**params)
    assert r["native_fraction"] == pytest.approx(p["N"], abs=1e-12)
    assert r["native_fraction_eq"] == pytest.approx(p["N"], abs=1e-12)
    assert r["misfolded_fraction"] == pytest.approx(p["M"] + p["MT"] + p["MD"], abs=1e-12)
    assert r["bound_fraction"] == pytest.approx(p["UT"] + p["MT"] + p["UD"] + p["MD"], abs=1e-12)
    assert abs(r["current"]) < 1e-12
    assert abs(r["entropy_production"]) < 1e-12
    assert r["native_excess"] == 0.0


@pytest.mark.parametrize("drive", [2.0, 5.0, 10.0, 20.0])
def test_atp_drive_raises_native_fraction_above_equilibrium(drive):
    r = evaluate("chaperone", drive=drive)
    assert r["native_fraction_eq"] == pytest.approx(boltzmann()["N"], abs=1e-12)
    assert r["native_fraction"] > r["native_fraction_eq"] + 1e-3
    assert r["current"] > 0


@pytest.mark.parametrize(("drive", "temperature", "density"),
                         [(1.0, 1.0, 0.1), (10.0, 1.0, 0.1), (5.0, 0.5, 1.0), (-3.0, 2.0, 0.3)])
def test_entropy_production_is_atp_turnover_times_drive_over_temperature(drive, temperature,
                                                                         density):
    r = evaluate("chaperone", drive=drive, temperature=temperature, density=density)
    assert r["entropy_production"] == pytest.approx(r["current"] * drive / temperature,
                                                    rel=1e-9, abs=1e-14)
    assert r["entropy_production"] >= 0
