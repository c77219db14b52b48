"""Reaction-network layer: parser, safe expressions, deterministic and CME steady states.

Reference values are exact: product-Poisson laws (Jahnke & Huisinga 2007), the roots and
slopes of a cubic (Schlögl model), and hand-written linear algebra.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from ness_core.errors import ParameterError
from ness_core.networks import (
    deterministic_steady_states,
    evaluate_expression,
    parse_equation,
    parse_network,
    solve_cme,
    validate_network,
)


# ---------------------------------------------------------------------- parser
def test_equation_parser_reads_coefficients_and_arrows():
    assert parse_equation("A + E <-> AE", "r") == ({"A": 1, "E": 1}, {"AE": 1}, True)
    assert parse_equation("G <=> 2 L", "r") == ({"G": 1}, {"L": 2}, True)
    assert parse_equation("0 -> 3*X", "r") == ({}, {"X": 3}, False)
    assert parse_equation("X + X => ", "r") == ({"X": 2}, {}, False)


@pytest.mark.parametrize("equation", ["A + B", "A <-> B <-> C", "A + 2 <-> B", "A.b -> C",
                                      "0 A -> B"])
def test_malformed_equation_is_refused_naming_the_reaction(equation):
    with pytest.raises(ParameterError, match="reaction 'bad'"):
        parse_equation(equation, "reaction 'bad'")


def test_expression_is_evaluated_exactly():
    names = {"k1": 2.0, "drive": 3.0, "temperature": 1.5}
    value = evaluate_expression("k1 * exp(drive / temperature) - -1 + sqrt(4) ** 2", names, "x")
    assert value == 2.0 * math.exp(2.0) + 1.0 + 4.0


@pytest.mark.parametrize(("text", "reason"), [
    ("__import__('os').system('true')", "Call is not allowed|unknown name"),
    ("().__class__", "Attribute is not allowed"),
    ("k1.real", "Attribute is not allowed"),
    ("10 ** 10 ** 10", "exponent"),
    ("2.0 ** 1000 * 2.0 ** 50", "exponent"),
    ("exp(1000)", "overflows"),
    ("[1][0]", "Subscript is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("'abc'", "Constant is not allowed"),
    ("open('x')", "Call is not allowed"),
    ("k2 + 1", "unknown name 'k2'"),
    ("form * 2", "'form' in 'form \\* 2' is 'stochastic', not a number"),
    ("1 / 0", "divides by zero"),
    ("log(-1)", "domain"),
    ("1" + " + 1" * 300, "longer than"),
])
def test_hostile_expression_is_refused_with_a_clear_error(text, reason):
    with pytest.raises(ParameterError, match=f"reaction 'r', rate: .*(?:{reason})"):
        evaluate_expression(text, {"k1": 1.0, "form": "stochastic"}, "reaction 'r', rate")


def _spec(**reactions):
    return {"species": {"A": {"mu0": 0}, "B": {"mu0": 1}},
            "chemostats": {"X": {"concentration": 2.0}},
            "reactions": reactions}


@pytest.mark.parametrize(("spec", "message"), [
    (_spec(r1={"equation": "A <-> Z", "rate": 1}), "reaction 'r1': undeclared species 'Z'"),
    (_spec(r1={"equation": "X <-> X", "rate": 1}), "reaction 'r1': changes no dynamic"),
    ({**_spec(r1={"equation": "A <-> 2 B", "rate": 1}),
      "composition": {"A": {"C": 6}, "B": {"C": 2}, "X": {"C": 1}}},
     "reaction 'r1': unbalanced in 'C'"),
    (_spec(r1={"equation": "A <-> B", "rat": 1}), "reaction 'r1': unknown key"),
    (_spec(r1={"equation": "A -> B", "rate": 1, "backward": 2}), "irreversible"),
])
def test_structural_errors_name_the_reaction(spec, message):
    with pytest.raises(ParameterError, match=message):
        parse_network(spec)


@pytest.mark.parametrize(("reaction", "message"), [
    ({"equation": "A <-> B", "rate": "-k"}, "reaction 'r1': forward rate constant -0.6"),
    ({"equation": "A <-> B", "rate": 1, "backward": "k - 3"}, "reaction 'r1': backward rate"),
    ({"equation": "A <-> B", "rate": "kk"}, "reaction 'r1', rate: unknown name 'kk'"),
])
def test_rate_errors_name_the_reaction(reaction, message):
    network = parse_network(_spec(r1=reaction))
    with pytest.raises(ParameterError, match=message):
        network.kinetics({"k": 1.0, "temperature": 1.0})


def test_local_detailed_balance_overflow_is_refused_naming_the_reaction():
    network = parse_network(_spec(r1={"equation": "A <-> B", "rate": 1.0}))  # Δμ° = 1
    with pytest.raises(ParameterError, match="reaction 'r1': .*rate constants overflow"):
        network.kinetics({"temperature": 1e-4})


def test_validation_over_sweep_points_names_point_and_reaction():
    spec = _spec(r1={"equation": "A <-> B", "rate": "k * (drive - 1)"})
    points = [{"k": 1.0, "drive": d, "temperature": 1.0} for d in (3.0, 2.0, 0.5)]
    with pytest.raises(ParameterError, match=r"at \{.*'drive': 0.5.*reaction 'r1': forward"):
        validate_network(spec, points)
    assert validate_network(spec, points[:2]).reactions[0].name == "r1"


# ---------------------------------------------------------------------- monomolecular CME
MONO = {
    "species": {"A": {"mu0": 0.0}, "B": {"mu0": 0.5}},
    "chemostats": {"X": {"concentration": "x", "mu0": 0.0}, "Y": {"concentration": "y"}},
    "reactions": {
        "inflow": {"equation": "X <-> A", "rate": 2.0},
        "convert": {"equation": "A <-> B", "rate": 1.0},
        "outflow": {"equation": "B <-> Y", "rate": 0.7},
        "decay": {"equation": "A -> 0", "rate": 0.3},
    },
}


def _mono_exact(x, y, t):
    """Hand-written linear ODE dc/dt = M c + b of MONO (k± = k e^{∓Δμ°/2T}); its fixed point."""
    e = math.exp(0.5 / (2 * t))  # Δμ° of A -> B is +0.5, of B -> Y is −0.5
    m = np.array([[-2.0 - 1.0 / e - 0.3, 1.0 * e], [1.0 / e, -1.0 * e - 0.7 * e]])
    b = np.array([2.0 * x, 0.7 / e * y])
    return np.linalg.solve(m, -b), m


@pytest.mark.parametrize(("x", "y", "volume"), [(1.0, 1.0, 10.0), (3.0, 0.2, 5.0),
                                                (0.5, 2.0, 20.0)])
def test_monomolecular_cme_is_product_poisson_jahnke_huisinga(x, y, volume):
    kin = parse_network(MONO).kinetics({"x": x, "y": y, "temperature": 1.0})
    mean, m = _mono_exact(x, y, 1.0)
    det = deterministic_steady_states(kin, np.ones(2))
    assert det.n_stable == 1 and len(det.states) == 1
    np.testing.assert_allclose(det.states[0].concentrations, mean, rtol=1e-10)
    assert det.states[0].gap == pytest.approx(-np.max(np.linalg.eigvals(m).real), rel=1e-10)
    cme = solve_cme(kin, volume, np.round(volume * mean).astype(int), tol=1e-12)
    lam = volume * mean
    exact = poisson.pmf(cme.states[:, 0], lam[0]) * poisson.pmf(cme.states[:, 1], lam[1])
    assert cme.boundary_probability <= 1e-12
    assert np.max(np.abs(cme.probabilities - exact)) < 1e-10
    # CME eigenvalues of a linear network are sums of the ODE's: the same slowest rate.
    assert cme.gap == pytest.approx(-np.max(np.linalg.eigvals(m).real), rel=1e-6)
    assert cme.entropy_production == math.inf  # the irreversible decay


def test_conservation_law_fixes_totals_and_drops_its_zero_eigenvalue():
    """Closed A <-> B (k⁺ = 2, k⁻ = 3): A* = total·3/5; the only relaxation rate is 5."""
    spec = {"species": {"A": {}, "B": {}},
            "reactions": {"r": {"equation": "A <-> B", "rate": 2.0, "backward": 3.0}}}
    kin = parse_network(spec).kinetics({})
    det = deterministic_steady_states(kin, np.array([1.5, 0.5]))
    (state,) = det.states
    np.testing.assert_allclose(state.concentrations, [1.2, 0.8], rtol=1e-12)
    assert state.eigenvalues.shape == (1,)
    assert state.gap == pytest.approx(5.0, rel=1e-12)


# ---------------------------------------------------------------------- multistability
def test_schlogl_model_bistability_from_the_cubic():
    """2X + A <-> 3X, X <-> B: dx/dt = 6x² − x³ − 11x + 6 = −(x−1)(x−2)(x−3)."""
    spec = {"species": {"X": {}},
            "chemostats": {"A": {"concentration": 1.0}, "B": {"concentration": 1.0}},
            "reactions": {"auto": {"equation": "2 X + A <-> 3 X", "rate": 6.0, "backward": 1.0},
                          "exchange": {"equation": "X <-> B", "rate": 11.0, "backward": 6.0}}}
    kin = parse_network(spec).kinetics({})
    det = deterministic_steady_states(kin, np.array([2.5]), n_starts=24)
    roots = sorted(float(s.concentrations[0]) for s in det.states)
    np.testing.assert_allclose(roots, [1.0, 2.0, 3.0], rtol=1e-10)
    assert det.n_stable == 2
    slope = {1.0: -2.0, 2.0: 1.0, 3.0: -2.0}  # f'(x) = −3x² + 12x − 11
    for s in det.states:
        assert s.gap == pytest.approx(-slope[round(float(s.concentrations[0]))], rel=1e-9)
        assert s.stable == (s.gap > 0)


# ---------------------------------------------------------------------- second law
@settings(max_examples=15, deadline=None)
@given(mu=st.lists(st.floats(-2, 2), min_size=4, max_size=4),
       k=st.lists(st.floats(0.1, 5), min_size=4, max_size=4),
       conc=st.lists(st.floats(0.2, 3), min_size=2, max_size=2),
       temperature=st.floats(0.3, 3))
def test_entropy_production_is_nonnegative_on_random_networks(mu, k, conc, temperature):
    spec = {"species": {"A": {"mu0": mu[0]}, "B": {"mu0": mu[1]}},
            "chemostats": {"X": {"concentration": conc[0], "mu0": mu[2]},
                           "Y": {"concentration": conc[1], "mu0": mu[3]}},
            "reactions": {"r1": {"equation": "X + A <-> 2 A", "rate": k[0]},
                          "r2": {"equation": "A <-> B", "rate": k[1]},
                          "r3": {"equation": "A + B <-> Y", "rate": k[2]},
                          "r4": {"equation": "0 <-> B", "rate": k[3]}}}
    kin = parse_network(spec).kinetics({"temperature": temperature})
    det = deterministic_steady_states(kin, np.ones(2))
    state = det.states[0]
    vp, vm = kin.one_way_rates(state.concentrations)
    assert np.sum((vp - vm) * np.log(vp / vm)) >= -1e-12
    cme = solve_cme(kin, 4.0, np.round(4.0 * state.concentrations).astype(int), tol=1e-8)
    assert cme.status == "ok"
    assert cme.entropy_production >= -1e-12


def test_equilibrium_chemostats_give_zero_fluxes_and_entropy_production():
    """Chemostat μ consistent (μ_X = μ_Y, here both 0): detailed balance, every J = 0."""
    spec = {"species": {"A": {"mu0": 0.3}, "B": {"mu0": -0.2}},
            "chemostats": {"X": {"concentration": 1.0}, "Y": {"concentration": 1.0}},
            "reactions": {"r1": {"equation": "X + A <-> 2 A", "rate": 1.3},
                          "r2": {"equation": "A <-> B", "rate": 0.4},
                          "r3": {"equation": "A + B <-> Y", "rate": 2.0}}}
    kin = parse_network(spec).kinetics({"temperature": 0.7})
    state = deterministic_steady_states(kin, np.ones(2)).states[0]
    np.testing.assert_allclose(state.concentrations, np.exp(-np.array([0.3, -0.2]) / 0.7),
                               rtol=1e-10)
    vp, vm = kin.one_way_rates(state.concentrations)
    assert np.max(np.abs(vp - vm)) < 1e-12
    cme = solve_cme(kin, 6.0, np.round(6.0 * state.concentrations).astype(int), tol=1e-10)
    assert np.max(np.abs(cme.forward_flux - cme.backward_flux)) < 1e-12
    assert abs(cme.entropy_production) < 1e-12


def test_truncation_limit_is_reported_not_hidden():
    kin = parse_network(MONO).kinetics({"x": 1.0, "y": 1.0, "temperature": 1.0})
    start = np.zeros(2, dtype=int)  # first box 0..10 × 0..10 = 121 states, mean ~ 20
    cme = solve_cme(kin, 20.0, start, tol=1e-8, max_states=200)
    assert cme.status == "truncation limit: 200 states"
    assert len(cme.states) == 121 and cme.boundary_probability > 1e-8
    with pytest.raises(RuntimeError, match="max_states = 100"):
        solve_cme(kin, 20.0, start, max_states=100)
