"""Every model's declared equilibrium points (``Model.is_equilibrium``) carry no current and
produce no entropy: detailed balance, checked through the full solvers."""

from __future__ import annotations

import pytest

from ness_core import evaluate, get_model

EQUILIBRIA = [
    ("climate", {"drive": 0.0, "temperature": 0.3}),
    ("asep", {"L": 6, "rho_left": 0.3, "rho_right": 0.3, "drive": 0.0}),
    ("asep", {"L": 5, "alpha": 0.4, "gamma": 0.2, "beta": 0.5, "delta": 1.0, "q": 1.0}),
    ("qubit", {"drive": 0.0, "temperature": 0.7, "detuning": 0.3}),
    ("kerr", {"drive": 0.0, "temperature": 0.5}),
    ("xxz", {"L": 4, "drive": 0.0, "anisotropy": 0.5}),
    ("chaperone", {"drive": 0.0, "temperature": 1.3}),
    ("chemostat", {"drive": 0.0, "density": 2.0, "lactate": 2.0**0.5}),
    ("chemostat", {"drive": 1.5, "dG0": 1.5, "form": "stochastic", "volume": 5.0}),
    ("wire", {"N": 9, "drive": 0.0, "bias": 0.0, "density": 0.3, "temperature": 0.4}),
    ("harmonic_chain", {"N": 8, "drive": 0.0, "temperature": 2.0}),
]
OFF_EQUILIBRIUM = [
    ("climate", {"drive": 0.1}),
    ("asep", {"L": 6, "rho_left": 0.6, "rho_right": 0.3, "drive": 0.0}),
    ("qubit", {"drive": 1.0, "temperature": 0.7}),
    ("chemostat", {"drive": 0.5}),
    ("wire", {"N": 9, "drive": 0.0, "bias": 0.5}),
    ("harmonic_chain", {"N": 8, "drive": 0.5}),
]


@pytest.mark.parametrize(("model", "params"), EQUILIBRIA)
def test_declared_equilibrium_has_no_current_and_no_entropy_production(model, params):
    m = get_model(model)
    assert m.is_equilibrium(m.resolve(params))
    out = evaluate(model, **params)
    assert abs(out["current"]) < 1e-10
    assert abs(out["entropy_production"]) < 1e-10


@pytest.mark.parametrize(("model", "params"), OFF_EQUILIBRIUM)
def test_driven_points_are_not_declared_equilibrium(model, params):
    m = get_model(model)
    assert not m.is_equilibrium(m.resolve(params))
    assert evaluate(model, **params)["entropy_production"] > 0
