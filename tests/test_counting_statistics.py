"""Full counting statistics of Markov currents against values computed independently here.

Reference values come from tilted generators built in this file with numpy straight from the
rate laws (DOMAIN.md S5, S6), from finite differences of their largest eigenvalue, and from
closed forms: the Gallavotti-Cohen symmetry, the thermodynamic uncertainty relation, and
the symmetric exclusion process between reservoirs (Derrida, J. Stat. Mech. P07023 (2007)).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ness_core import ParameterError, evaluate
from ness_core.models.asep import Rates, bond_weights, exact_generator
from ness_core.models.climate import climate_rates
from ness_core.solvers.markov import MarkovGenerator

CLOCKWISE = {(0, 1), (1, 2), (2, 0)}
DEFAULTS = {"nu": 1.0, "barrier": 1.0, "E_W": 0.0, "E_C": -0.5, "E_I": -1.0}
STEP = 1e-2  # finite-difference step of the counting field (five-point stencils, O(STEP^4))


def climate_tilted(s, drive, temperature, energies=(0.0, -0.5, -1.0)):
    """3 × 3 tilted generator from the S5 rate law, counting +1 for W→C and −1 for C→W."""
    w = np.zeros((3, 3))
    for i, j in itertools.permutations(range(3), 2):
        sign = 1.0 if (i, j) in CLOCKWISE else -1.0
        k = math.exp(-(1.0 + (energies[j] - energies[i]) / 2 - sign * drive / 2) / temperature)
        count = {(0, 1): 1.0, (1, 0): -1.0}.get((i, j), 0.0)
        w[j, i] += k * math.exp(s * count)
        w[i, i] -= k
    return w


def largest_eigenvalue(matrix):
    return float(np.max(np.linalg.eigvals(matrix).real))


def first_difference(theta):
    """theta'(0) by the five-point central stencil."""
    h = STEP
    return (-theta(2 * h) + 8 * theta(h) - 8 * theta(-h) + theta(-2 * h)) / (12 * h)


def second_difference(theta):
    """theta''(0) by the five-point central stencil."""
    h = STEP
    return (-theta(2 * h) + 16 * theta(h) - 30 * theta(0.0) + 16 * theta(-h)
            - theta(-2 * h)) / (12 * h**2)


def climate_generator(drive, temperature):
    source, target, log_rate = climate_rates(
        {**DEFAULTS, "drive": drive, "temperature": temperature})
    generator = MarkovGenerator(3, source, target, np.exp(log_rate))
    return generator, generator.edge_weights([0, 1], [1, 0], [1.0, -1.0])


# ---------------------------------------------------------------------- climate cycle
@pytest.mark.parametrize("drive, temperature", [(1.0, 1.0), (-2.0, 0.7), (0.0, 1.5), (4.0, 2.0)])
def test_climate_scgf_is_largest_eigenvalue_of_tilted_rate_matrix(drive, temperature):
    generator, weight = climate_generator(drive, temperature)
    fields = np.linspace(-3.0, 2.0, 11)
    expected = [largest_eigenvalue(climate_tilted(s, drive, temperature)) for s in fields]
    np.testing.assert_allclose(generator.scgf(weight, fields), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("drive, temperature", [(1.0, 1.0), (-2.0, 0.7), (0.0, 1.5), (4.0, 2.0)])
def test_climate_variance_matches_finite_difference_of_tilted_eigenvalue(drive, temperature):
    out = evaluate("climate", drive=drive, temperature=temperature, fluctuations=True)
    theta = lambda s: largest_eigenvalue(climate_tilted(s, drive, temperature))  # noqa: E731
    assert out["current_variance"] == pytest.approx(second_difference(theta), rel=1e-6)
    assert out["current"] == pytest.approx(first_difference(theta), abs=1e-9)
    if drive != 0.0:
        assert out["fano_factor"] == pytest.approx(out["current_variance"] / abs(out["current"]))


@pytest.mark.parametrize("drive, temperature", [(1.0, 1.0), (-0.5, 0.4), (3.0, 2.0)])
def test_climate_gallavotti_cohen_symmetry(drive, temperature):
    generator, weight = climate_generator(drive, temperature)
    affinity = 3.0 * drive / temperature
    fields = np.linspace(-2.0, 2.0, 9)
    np.testing.assert_allclose(generator.scgf(weight, fields),
                               generator.scgf(weight, -fields - affinity), rtol=1e-9, atol=1e-12)


def test_climate_tur_ratio_approaches_two_near_equilibrium():
    ratios = [evaluate("climate", drive=d, fluctuations=True)["tur_ratio"]
              for d in (1.0, 0.1, 0.01, 0.001)]
    assert all(r >= 2.0 for r in ratios)
    assert ratios == sorted(ratios, reverse=True)
    assert ratios[-1] == pytest.approx(2.0, abs=1e-5)


def test_climate_equilibrium_has_infinite_fano_and_undefined_tur_ratio():
    out = evaluate("climate", drive=0.0, fluctuations=True)
    assert out["current"] == 0.0 and out["entropy_production"] == 0.0
    assert out["current_variance"] > 0
    assert out["fano_factor"] == math.inf
    assert math.isnan(out["tur_ratio"])  # 0/0: reported, not replaced by the bound


def test_fluctuation_outputs_are_nan_unless_requested():
    out = evaluate("climate")
    assert all(math.isnan(out[k]) for k in ("current_variance", "fano_factor", "tur_ratio"))
    out = evaluate("asep", L=4)
    assert out["density_correlation"].shape == (0, 0)
    assert all(math.isnan(out[k]) for k in ("current_variance", "fano_factor", "tur_ratio"))


# ---------------------------------------------------------------------- random networks
@st.composite
def networks(draw):
    """Complete graph on 3-5 states, rates e^U(-3, 3) both ways, an antisymmetric current."""
    n = draw(st.integers(3, 5))
    pairs = list(itertools.combinations(range(n), 2))
    log_rate = st.floats(-3.0, 3.0)
    forward = np.exp(draw(st.lists(log_rate, min_size=len(pairs), max_size=len(pairs))))
    backward = np.exp(draw(st.lists(log_rate, min_size=len(pairs), max_size=len(pairs))))
    count = np.array(draw(st.lists(st.floats(-1.0, 1.0), min_size=len(pairs),
                                   max_size=len(pairs))))
    return n, np.array(pairs), forward, backward, count


def dense_tilted(n, pairs, forward, backward, count, s):
    w = np.zeros((n, n))
    for (i, j), kf, kb, c in zip(pairs, forward, backward, count, strict=True):
        w[j, i] += kf * math.exp(s * c)
        w[i, j] += kb * math.exp(-s * c)
        w[i, i] -= kf
        w[j, j] -= kb
    return w


def build(n, pairs, forward, backward, count):
    source = np.concatenate((pairs[:, 0], pairs[:, 1]))
    target = np.concatenate((pairs[:, 1], pairs[:, 0]))
    generator = MarkovGenerator(n, source, target, np.concatenate((forward, backward)))
    weight = generator.edge_weights(source, target, np.concatenate((count, -count)))
    return generator, weight


@settings(max_examples=60, deadline=None)
@given(networks())
def test_cumulants_match_finite_differences_of_dense_tilted_eigenvalue(net):
    generator, weight = build(*net)
    theta = lambda s: largest_eigenvalue(dense_tilted(*net, s))  # noqa: E731
    for method in ("direct", "iterative"):
        cumulants = generator.current_cumulants(weight, generator.stationary(method=method))
        assert cumulants.status == "ok"
        assert cumulants.mean == pytest.approx(first_difference(theta),
                                               rel=1e-6, abs=1e-8)
        assert cumulants.variance == pytest.approx(second_difference(theta), rel=1e-5, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(networks())
def test_thermodynamic_uncertainty_relation_on_random_networks(net):
    generator, weight = build(*net)
    state = generator.stationary()
    cumulants = generator.current_cumulants(weight, state)
    sigma = generator.entropy_production(state.probabilities)
    assert cumulants.variance * sigma >= 2.0 * cumulants.mean**2 * (1 - 1e-9) - 1e-14


# ---------------------------------------------------------------------- exclusion process
def asep_dense_generator(L, rates, counted_bond=None, s=0.0):
    """2^L generator from the S6 rules, tilting the jumps across one bond (0 .. L)."""
    w = np.zeros((2**L, 2**L))

    def add(src, site_flips, k, rightward_bond=None, sign=0.0):
        tgt = src
        for site in site_flips:
            tgt ^= 1 << site
        tilt = math.exp(s * sign) if rightward_bond == counted_bond else 1.0
        w[tgt, src] += k * tilt
        w[src, src] -= k

    for c in range(2**L):
        occ = [(c >> i) & 1 for i in range(L)]
        if occ[0] == 0 and rates.alpha > 0:
            add(c, [0], rates.alpha, 0, 1.0)
        if occ[0] == 1 and rates.gamma > 0:
            add(c, [0], rates.gamma, 0, -1.0)
        if occ[-1] == 1 and rates.beta > 0:
            add(c, [L - 1], rates.beta, L, 1.0)
        if occ[-1] == 0 and rates.delta > 0:
            add(c, [L - 1], rates.delta, L, -1.0)
        for i in range(L - 1):
            if occ[i] == 1 and occ[i + 1] == 0:
                add(c, [i, i + 1], 1.0, i + 1, 1.0)
            if occ[i] == 0 and occ[i + 1] == 1 and rates.q > 0:
                add(c, [i, i + 1], rates.q, i + 1, -1.0)
    return w


def dense_stationary(w):
    _, _, vh = np.linalg.svd(w)
    p = np.abs(vh[-1])
    return p / p.sum()


@pytest.mark.parametrize("L", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("rho_left, rho_right", [(0.9, 0.2), (1.0, 0.0), (0.3, 0.7)])
def test_ssep_linear_profile_and_long_range_correlation_closed_form(L, rho_left, rho_right):
    """SSEP (q = 1) with our S6 boundary rates: alpha + gamma = beta + delta = 1, so the
    reservoirs act as extra sites 0 and L + 1 and (Derrida 2007, eq. for a = b = 1)

        rho_i = rho_l + (rho_r − rho_l) i/(L + 1),
        <tau_i tau_j>_c = −(rho_l − rho_r)² i (L + 1 − j) / ((L + 1)² L),   i < j.

    Checked against a dense brute-force stationary state built here, then the model."""
    out = evaluate("asep", L=L, drive=0.0, rho_left=rho_left, rho_right=rho_right,
                   fluctuations=True)
    rates = Rates(q=1.0, alpha=rho_left, gamma=1 - rho_left, beta=1 - rho_right, delta=rho_right)
    p = dense_stationary(asep_dense_generator(L, rates))
    tau = (np.arange(2**L)[:, None] >> np.arange(L)) & 1
    rho_brute = p @ tau
    corr_brute = (tau * p[:, None]).T @ tau - np.outer(rho_brute, rho_brute)

    i = np.arange(1, L + 1)
    rho = rho_left + (rho_right - rho_left) * i / (L + 1)
    lo, hi = np.minimum.outer(i, i), np.maximum.outer(i, i)
    corr = -((rho_left - rho_right) ** 2) * lo * (L + 1 - hi) / ((L + 1) ** 2 * L)
    np.fill_diagonal(corr, rho * (1 - rho))
    np.testing.assert_allclose(rho_brute, rho, atol=1e-12)
    np.testing.assert_allclose(corr_brute, corr, atol=1e-12)
    np.testing.assert_allclose(out["density_profile"], rho, atol=1e-12)
    np.testing.assert_allclose(out["density_correlation"], corr, atol=1e-12)
    off_diagonal = corr[~np.eye(L, dtype=bool)]
    assert np.all(off_diagonal < 0) or rho_left == rho_right
    assert out["tur_ratio"] >= 2.0


@pytest.mark.parametrize("bond", [0, 1, 3])
@pytest.mark.parametrize("params", [
    {"drive": 1.0, "rho_left": 0.8, "rho_right": 0.1},
    {"drive": 0.0, "rho_left": 0.6, "rho_right": 0.3},
    {"q": 0.3, "alpha": 0.7, "beta": 0.4, "gamma": 0.2, "delta": 0.1},
])
def test_asep_variance_is_bond_independent_and_matches_tilted_eigenvalue(bond, params):
    L = 3
    out = evaluate("asep", L=L, fluctuations=True, **params)
    rates = Rates(q=out_q(params), **{k: out_rate(params, k) for k in
                                      ("alpha", "beta", "gamma", "delta")})
    theta = lambda s: largest_eigenvalue(asep_dense_generator(L, rates, bond, s))  # noqa: E731
    assert out["current_variance"] == pytest.approx(second_difference(theta), rel=1e-5)
    generator = exact_generator(L, rates)
    single = generator.current_cumulants(bond_weights(generator, L, [bond]),
                                         generator.stationary())
    assert single.variance == pytest.approx(out["current_variance"], rel=1e-10)
    assert single.mean == pytest.approx(out["current"], rel=1e-10)


def out_q(params):
    return params.get("q", math.exp(-params.get("drive", math.inf)))


def out_rate(params, name):
    """S6 boundary rates from the reservoir densities unless given explicitly."""
    if name in params:
        return params[name]
    q, rho_l, rho_r = out_q(params), params["rho_left"], params["rho_right"]
    return {"alpha": rho_l, "gamma": (1 - rho_l) * q, "beta": 1 - rho_r,
            "delta": rho_r * q}[name]


def test_tasep_tur_ratio_is_infinite_and_reported_unclipped():
    out = evaluate("asep", L=5, fluctuations=True)
    assert out["current_variance"] > 0
    assert math.isinf(out["tur_ratio"])


@pytest.mark.parametrize("params", [{"method": "mc"}, {"method": "formula"}, {"L": 1}])
def test_asep_fluctuations_need_exact_method_and_two_sites(params):
    with pytest.raises(ParameterError, match="fluctuations"):
        evaluate("asep", fluctuations=True, **{"L": 4, **params})


def test_scgf_arnoldi_matches_dense_on_exclusion_process():
    L = 5
    rates = Rates(q=0.4, alpha=0.7, beta=0.6, gamma=0.2, delta=0.1)
    generator = exact_generator(L, rates)
    weight = bond_weights(generator, L)
    fields = np.linspace(-1.5, 1.5, 7)
    np.testing.assert_allclose(generator.scgf(weight, fields, method="arnoldi"),
                               generator.scgf(weight, fields, method="dense"), atol=1e-9)
