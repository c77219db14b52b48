"""Reaction-network layer: parser, safe expressions, deterministic and CME steady states.

Reference values are exact: product-Poisson laws (Jahnke & Huisinga 2007), the roots and
slopes of a cubic (Schlögl model, numpy.roots), Wegscheider's detailed-balance condition
worked out by hand, and hand-written linear algebra. User-defined networks go through the
config path (schema, normalisation, model name) as a study would.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml
from hypothesis import example, given, reject, settings
from hypothesis import strategies as st
from scipy.stats import poisson

from ness_core import cli, configs, dataset, evaluate, get_model, sweep
from ness_core.cli import SCHEMA
from ness_core.errors import ParameterError
from ness_core.models.network import network_model
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
    assert parse_equation("X + X => 0", "r") == ({"X": 2}, {}, False)


@pytest.mark.parametrize("equation", ["A + B", "A <-> B <-> C", "A + 2 <-> B", "A.b -> C",
                                      "0 A -> B", "A + E <-> ", " -> B"])
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


@pytest.mark.parametrize("text", ["1or 2", "1if k1 else 2", "0x1for"])
def test_a_number_run_into_a_keyword_is_refused_without_a_python_warning(text, capfd):
    """Python's parser only warns (on stderr) on '1or 2'; the config error is one line."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        with pytest.raises(ParameterError, match="reaction 'r', rate: cannot parse"):
            evaluate_expression(text, {"k1": 1.0}, "reaction 'r', rate")
    assert capfd.readouterr().err == ""


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


def test_cme_grown_from_an_empty_start_reports_the_kept_box():
    """Started at zero copies with no typical state, the first box (caps 10) cuts the
    Poisson mass near Ω·c*; the probabilities and the gap are those of the final box: the
    product Poisson and the ODE's slowest rate (a 10-copy box's gap differs by far more)."""
    volume = 20.0
    kin = parse_network(MONO).kinetics({"x": 3.0, "y": 0.2, "temperature": 1.0})
    mean, m = _mono_exact(3.0, 0.2, 1.0)
    cme = solve_cme(kin, volume, np.zeros(2, dtype=int), tol=1e-12)
    lam = volume * mean
    assert np.all(cme.caps > 2 * lam)
    exact = poisson.pmf(cme.states[:, 0], lam[0]) * poisson.pmf(cme.states[:, 1], lam[1])
    assert np.max(np.abs(cme.probabilities - exact)) < 1e-10
    assert cme.gap == pytest.approx(-np.max(np.linalg.eigvals(m).real), rel=1e-6)


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
@example(mu=[0.0, -2.0, 0.0, 1.0], k=[1.0, 2.0, 1.0, 1.0], conc=[1.0, 1.0],
         temperature=0.5)  # B near 480 copies: a box from 0 underflowed its lower tail
@example(mu=[0.5, -1.0, 1.0, 0.0], k=[3.0, 2.0, 0.5, 1.0], conc=[3.0, 1.0],
         temperature=0.5)  # second box's default pin and mode estimate both deep in a tail
@example(mu=[-1.0, -1.0, 1.0, 0.0], k=[1.0, 3.0, 1.0, 1.0], conc=[1.0, 1.0],
         temperature=0.375)  # the next box beyond max_states: a truncated chain
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
    try:
        cme = solve_cme(kin, 4.0, np.round(4.0 * state.concentrations).astype(int), tol=1e-8)
    except RuntimeError:  # already the first box beyond max_states (e.g. ~10⁴ copies of B)
        reject()
    # A box held at max_states is still a Markov chain, whose stationary σ is ≥ 0 (found at
    # T ≈ 0.3: 1.4·10² copies of a super-Poissonian A needed 2.3·10⁵ states)
    assert cme.status == "ok" or cme.status.startswith("truncation limit"), cme.status
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


def test_stationary_cme_entropy_production_is_currents_times_log_rate_ratios():
    """Identity behind the simulation estimator: at stationarity the state-level σ equals
    Σ_ρ J_ρ ln(k⁺_ρ/k⁻_ρ) (ln of propensity ratios = ln(k⁺/k⁻) + a potential difference)."""
    spec = {"species": {"A": {"mu0": 0.2}, "B": {"mu0": -0.4}},
            "chemostats": {"X": {"concentration": 1.7, "mu0": 0.5},
                           "Y": {"concentration": 0.6, "mu0": -0.3}},
            "reactions": {"r1": {"equation": "X + A <-> 2 A", "rate": 0.8},
                          "r2": {"equation": "A <-> B", "rate": 1.1},
                          "r3": {"equation": "A + B <-> Y", "rate": 0.9},
                          "r4": {"equation": "0 <-> B", "rate": 0.5}}}
    kin = parse_network(spec).kinetics({"temperature": 0.8})
    cme = solve_cme(kin, 5.0, np.array([5, 5]), tol=1e-12, gap=False)
    theta = np.log(kin.k_plus) - np.log(kin.k_minus)
    net = cme.forward_flux - cme.backward_flux
    assert cme.entropy_production > 0.01
    assert cme.entropy_production == pytest.approx(float(net @ theta), rel=1e-9)


# ---------------------------------------------------------------------- user-defined networks
def schlogl_block(**extra):
    """Schlögl model, dx/dt = 6a x² − x³ − 11x + 6: roots 1, 2, 3 at a = 1."""
    return {"parameters": {"a": 1.0},
            "species": {"X": {"initial": 1.0}},
            "chemostats": {"A": {"concentration": "a"}, "B": {"concentration": 1.0}},
            "reactions": {"auto": {"equation": "2 X + A <-> 3 X", "rate": 6.0, "backward": 1.0},
                          "exchange": {"equation": "X <-> B", "rate": 11.0, "backward": 6.0}},
            "current": "exchange", **extra}


def schlogl_roots(a):
    roots = np.roots([-1.0, 6.0 * a, -11.0, 6.0])
    return np.sort(roots[np.abs(roots.imag) < 1e-9].real)


def network_study(block, sweep_values, **spec):
    return configs.parse_study("net", {"model": "network", "network": block,
                                     "sweep": {"a": sweep_values}, **spec})


def test_user_network_steady_states_are_the_roots_of_the_cubic():
    study = network_study(schlogl_block(), [0.8, 1.0, 1.2])
    for point in study.points():
        a = point.params["a"]
        out = evaluate(study.model, **point.params)
        roots = schlogl_roots(a)
        assert out["n_stable"] == (2 if len(roots) == 3 else 1)
        x = out["concentration_X"]
        assert np.min(np.abs(roots - x)) < 1e-10 * max(1.0, x)
        slope = 12 * a * x - 3 * x**2 - 11  # f'(x)
        assert out["gap"] == pytest.approx(-slope, rel=1e-8)
        assert out["current"] == pytest.approx(11 * x - 6, rel=1e-10)
        assert out["flux_auto"] == pytest.approx(6 * a * x**2 - x**3, rel=1e-10)
        assert out["status"] == "ok"  # multistability is data, not a failure
        assert out["note"] == ("" if len(roots) == 1 else "2 stable states")


@pytest.mark.parametrize(("start", "branch"), [(0.5, 0), (1.5, -1)])
def test_continuation_follows_the_lower_or_upper_branch_of_the_hysteresis_loop(start, branch):
    """In the bistable window (0.99 < a < 1.036) a sweep up from a = 0.5 stays on the lower
    branch and a sweep down from a = 1.5 on the upper one."""
    block = schlogl_block(continuation={"parameter": "a", "start": start, "steps": 10})
    study = network_study(block, [1.0, 1.02])
    for point in study.points():
        out = evaluate(study.model, **point.params)
        roots = schlogl_roots(point.params["a"])
        assert len(roots) == 3
        assert out["concentration_X"] == pytest.approx(roots[branch], rel=1e-10)
        assert out["n_stable"] == 2


def test_results_do_not_depend_on_chunk_size():
    block = schlogl_block(continuation={"parameter": "a", "start": 1.5, "steps": 10})
    values = [0.98, 1.0, 1.01, 1.02, 1.04]
    one = network_study(block, values, chunk_size=1)
    three = network_study(block, values, chunk_size=3)
    datasets = []
    for study in (one, three):
        chunks = sweep.plan_chunks(study, study.points(), {}, set())
        parts = [dataset.compute_chunk(c.manifest(study)) for c in chunks]
        datasets.append(xr.concat(parts, dim="point").sortby("point"))
    assert [len(sweep.plan_chunks(s, s.points(), {}, set())) for s in (one, three)] == [5, 2]
    for name in ("concentration_X", "current", "gap", "n_stable"):
        np.testing.assert_array_equal(datasets[0][name].values, datasets[1][name].values)


def test_point_ids_hash_the_network_not_its_spelling():
    ids = {p.id for p in network_study(schlogl_block(), [0.8, 1.2]).points()}
    respelled = schlogl_block()
    respelled["reactions"]["auto"] = {"equation": "A+2*X <=> 3 X", "rate": "6.0",
                                      "backward": 1}
    respelled["reactions"]["auto"]["rate"] = "(6.0)"
    assert {p.id for p in network_study(respelled, [0.8, 1.2]).points()} == ids
    edited = schlogl_block()
    edited["reactions"]["exchange"]["backward"] = 6.5
    assert ids.isdisjoint(p.id for p in network_study(edited, [0.8, 1.2]).points())


def test_network_model_is_rebuilt_from_its_name_alone():
    study = network_study(schlogl_block(), [0.8])
    point = study.points()[0]
    fresh = network_model.__wrapped__(study.model)  # bypass the per-process cache
    assert fresh.name == study.model
    assert fresh.solve(fresh.resolve(point.params))["current"] == (
        evaluate(study.model, **point.params)["current"])


def test_network_equilibrium_is_wegscheider_detailed_balance():
    """θ = ln(k⁺/k⁻) in the range of S: θ_auto = ln(6a) (ν_X = +1), θ_exchange = ln(11/6)
    (ν_X = −1), so detailed balance iff ln(6a) = −ln(11/6), a = 1/11, with x* = 6/11."""
    study = network_study(schlogl_block(), [1.0])
    m = get_model(study.model)
    a_eq = 1.0 / 11.0
    assert m.is_equilibrium(m.resolve({"a": a_eq}))
    assert not m.is_equilibrium(m.resolve({"a": 1.0}))
    for form in ("deterministic", "stochastic"):
        out = evaluate(study.model, a=a_eq, form=form, volume=10.0)
        assert abs(out["current"]) < 1e-12 and abs(out["flux_auto"]) < 1e-12
        assert abs(out["entropy_production"]) < 1e-12
        if form == "deterministic":
            assert out["concentration_X"] == pytest.approx(6.0 / 11.0, rel=1e-12)
    assert evaluate(study.model, a=1.2)["entropy_production"] > 0


def test_stochastic_user_network_is_product_poisson():
    block = {"parameters": {"x": 1.0, "y": 1.0},
             "species": {"A": {}, "B": {}},
             "chemostats": {"X": {"concentration": "x"}, "Y": {"concentration": "y"}},
             "reactions": {"inflow": {"equation": "X <-> A", "rate": 2.0, "backward": 1.0},
                           "convert": {"equation": "A <-> B", "rate": 1.0, "backward": 0.5},
                           "outflow": {"equation": "B <-> Y", "rate": 0.7, "backward": 0.3}}}
    study = configs.parse_study("mono", {"model": "network", "network": block,
                                       "sweep": {"x": [2.0]}})
    out = evaluate(study.model, x=2.0, y=0.3, form="stochastic", volume=8.0, method="cme")
    mean = np.linalg.solve([[-2.0, 0.5], [1.0, -1.2]], [-4.0, -0.09])  # hand-solved ODE
    assert out["solver"] == "cme" and out["boundary_probability"] <= 1e-8
    assert out["concentration_A"] == pytest.approx(mean[0], rel=1e-8)
    assert out["concentration_B"] == pytest.approx(mean[1], rel=1e-8)
    assert out["current"] == pytest.approx(4.0 - mean[0], rel=1e-8)


# ---------------------------------------------------------------------- config validation
def bad_network_config(mutate):
    block = schlogl_block()
    block["parameters"]["k"] = 2.0
    block["reactions"]["exchange"]["rate"] = "k * 5.5"
    spec = {"model": "network", "network": block, "sweep": {"a": [0.8, 1.2]}}
    mutate(spec)
    return {"studies": {"bad": spec}}


def _rate(text):
    return lambda s: s["network"]["reactions"]["exchange"].update(rate=text)


BAD_NETWORKS = [
    pytest.param(_rate("__import__('os').system('true')"), ["reaction 'exchange'", "Call"],
                 id="import"),
    pytest.param(_rate("k.__class__"), ["reaction 'exchange'", "Attribute"], id="attribute"),
    pytest.param(_rate("k ** 10 ** 6"), ["reaction 'exchange'", "exponent"], id="huge-power"),
    pytest.param(_rate("exp(a * 1e6)"), ["reaction 'exchange'", "overflows"], id="overflow"),
    pytest.param(_rate("kk * 2"), ["reaction 'exchange'", "unknown name 'kk'"], id="unknown"),
    pytest.param(_rate("k * (a - 1)"), ["reaction 'exchange'", "negative", "'a': 0.8"],
                 id="negative-rate"),
    pytest.param(lambda s: s["network"]["reactions"]["auto"].update(equation="2 X + Z <-> 3 X"),
                 ["reaction 'auto'", "undeclared species 'Z'"], id="undeclared-species"),
    pytest.param(lambda s: s["network"].update(composition={"X": {"C": 1}, "A": {"C": 2},
                                                            "B": {"C": 1}}),
                 ["reaction 'auto'", "unbalanced in 'C'"], id="unbalanced"),
    pytest.param(lambda s: s["network"]["reactions"]["auto"].update(equation="2 X + A -> 3 X"),
                 ["reaction 'auto'", "irreversible"], id="irreversible-with-backward"),
    pytest.param(lambda s: s["network"].update(current="nope"), ["current", "'nope'"],
                 id="unknown-current"),
    pytest.param(lambda s: s.pop("network"), ["needs a network block"], id="no-block"),
    pytest.param(lambda s: s.update(model="climate"), ["needs model: network"],
                 id="block-on-registered-model"),
    pytest.param(lambda s: s.update(fixed={"q": 1.0}), ["fixed 'q'", "no parameter 'q'"],
                 id="unknown-fixed"),
    pytest.param(lambda s: s["network"]["reactions"]["auto"].pop("rate"),
                 ["reactions", "auto", "'rate' is a required property"], id="schema"),
]


@pytest.mark.parametrize(("mutate", "words"), BAD_NETWORKS)
def test_bad_network_is_one_config_error_naming_study_and_reaction(mutate, words):
    with pytest.raises(configs.ConfigError) as info:
        configs.load_config(bad_network_config(mutate), SCHEMA)
    message = str(info.value)
    assert message.startswith("study 'bad'") and "\n" not in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(("mutate", "words"), BAD_NETWORKS[:6])
def test_ness_plan_refuses_a_bad_network_with_one_line(mutate, words, tmp_path, capsys):
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(bad_network_config(mutate)))
    assert cli.main(["plan", str(configfile), "-d", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("config error: study 'bad'")
    assert "Traceback" not in captured.err and words[0] in lines[0]
    assert not (tmp_path / "results").exists()


@pytest.mark.slow
def test_pipeline_jobs_rebuild_the_network_from_the_study(tmp_path, snakemake_runner):
    """A written-out and an SBML network through snakemake: every job rebuilds the model from
    the chunk manifest, and the datasets equal direct evaluation."""
    sbml = Path(__file__).resolve().parents[1] / "config" / "sbml" / "schlogl.xml"
    shutil.copy(sbml, tmp_path / "schlogl.xml")
    block = schlogl_block(continuation={"parameter": "a", "start": 1.5, "steps": 10})
    config = {"studies": {
        "written": {"model": "network", "network": block, "chunk_size": 2,
                    "sweep": {"a": [0.9, 1.0, 1.02, 1.1]},
                    "figures": [{"kind": "line", "x": "a", "y": ["concentration_X"]}]},
        "imported": {"model": "network", "network": {"sbml": "schlogl.xml"},
                     "sweep": {"A": [0.9, 1.1]}, "fixed": {"form": "stochastic",
                                                           "volume": 5.0}}}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, configfile, "--workflow-profile",
                              str(Path(__file__).resolve().parents[1] / "workflow" / "profiles"
                                  / "default"))
    assert result.returncode == 0, result.stderr[-3000:]
    for name, axis in (("written", "a"), ("imported", "A")):
        ds = dataset.read_netcdf(tmp_path / "results" / name / "dataset.nc")
        model = ds.attrs["model"]
        assert model.startswith("network:")
        for value in ds[axis].values:
            direct = evaluate(model, **{axis: float(value)},
                              **json.loads(ds.attrs["fixed_parameters"]))
            point = ds.sel({axis: value})
            for key in ("current", "entropy_production", "gap", "concentration_X"):
                assert float(point[key]) == pytest.approx(direct[key], rel=1e-12)
    assert (tmp_path / "results" / "report" / "index.html").exists()
