"""Driven qubit (DOMAIN.md S8) against resonance fluorescence and the Mollow spectrum."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models.qubit import qubit_operators
from ness_core.solvers.lindblad import Liouvillian


@pytest.mark.parametrize("omega, delta, gamma", [(1.0, 0.0, 1.0), (0.3, 0.8, 1.0),
                                                 (4.0, -2.0, 0.5), (0.0, 1.0, 2.0)])
def test_excited_population_matches_resonance_fluorescence(omega, delta, gamma):
    out = evaluate("qubit", drive=omega, detuning=delta, gamma=gamma)
    p_e = (omega**2 / 4) / (delta**2 + gamma**2 / 4 + omega**2 / 2)
    assert out["status"] == "ok"
    assert out["p_excited"] == pytest.approx(p_e, abs=1e-13)
    assert out["current"] == pytest.approx(gamma * p_e, abs=1e-13)  # T = 0: emission γ ρ_ee
    assert out["residual"] < 1e-12


@pytest.mark.parametrize("omega", [0.1, 0.2, 1.0, 3.0])
def test_liouvillian_spectrum_is_mollow_on_resonance(omega):
    gamma = 1.0
    params = {"drive": omega, "detuning": 0.0, "gamma": gamma, "omega0": 1.0, "temperature": 0.0}
    lam = np.linalg.eigvals(Liouvillian(*qubit_operators(params)).matrix.toarray())
    root = np.sqrt(complex(gamma**2 / 16 - omega**2))
    mollow = np.array([0.0, -gamma / 2, -3 * gamma / 4 + root, -3 * gamma / 4 - root])
    distance = np.abs(lam[:, None] - mollow[None, :])
    assert distance.min(axis=0).max() < 1e-12
    slowest = mollow[1:][np.argmax(mollow[1:].real)]
    out = evaluate("qubit", drive=omega, gamma=gamma)
    assert out["gap"] == pytest.approx(-slowest.real, abs=1e-12)
    assert out["gap_imag"] == pytest.approx(abs(slowest.imag), abs=1e-12)


@pytest.mark.parametrize("temperature", [0.2, 1.0, 5.0])
def test_undriven_qubit_relaxes_to_gibbs_state_without_entropy_production(temperature):
    out = evaluate("qubit", drive=0.0, detuning=0.3, omega0=1.5, temperature=temperature)
    boltzmann = math.exp(-1.5 / temperature)
    assert out["p_excited"] == pytest.approx(boltzmann / (1 + boltzmann), rel=1e-12)
    assert out["current"] == pytest.approx(0.0, abs=1e-14)
    assert out["entropy_production"] == 0.0
    assert out["coherence"] == pytest.approx(0.0, abs=1e-14)


def test_entropy_production_is_nonnegative_and_infinite_at_zero_temperature():
    for omega in (0.0, 0.5, 2.0):
        for temperature in (0.0, 0.1, 1.0, 10.0):
            out = evaluate("qubit", drive=omega, detuning=0.4, temperature=temperature)
            assert out["entropy_production"] >= 0.0
            if omega > 0 and temperature == 0.0:
                assert out["entropy_production"] == math.inf
            if omega > 0 and temperature > 0:
                # σ = ω0 J / T with the net emission flux J
                expected = out["current"] / temperature
                assert out["entropy_production"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("bad, match", [({"gamma": 0.0}, "gamma"),
                                        ({"temperature": -1.0}, "temperature"),
                                        ({"rabi": 1.0}, "no parameter 'rabi'")])
def test_bad_parameters_raise_parameter_error(bad, match):
    with pytest.raises(ParameterError, match=match):
        evaluate("qubit", **bad)
