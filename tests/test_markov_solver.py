"""Physics checks of the Markov jump-process solver against independent values.

References used as independent values: the matrix-tree theorem (Kirchhoff; Hill 1977) by
brute-force enumeration of spanning arborescences, the Boltzmann distribution of a
detailed-balance network, numpy's dense eigenvalues of a generator assembled here, closed
forms of the two-state chain, and sigma = J * A of a unicyclic network (Schnakenberg 1976).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ness_core.solvers import markov_spectrum
from ness_core.solvers.markov import MarkovGenerator

SETTINGS = settings(max_examples=40, deadline=None)
RATE = st.floats(min_value=0.05, max_value=20.0)


@st.composite
def irreducible_networks(draw, min_states=2, max_states=6):
    """(n, {(i, j): rate}) strongly connected: a random Hamiltonian ring plus extra jumps."""
    n = draw(st.integers(min_states, max_states))
    order = draw(st.permutations(range(n)))
    edges = {(order[a], order[(a + 1) % n]) for a in range(n)} if n > 1 else set()
    others = [(i, j) for i in range(n) for j in range(n) if i != j and (i, j) not in edges]
    if others:
        edges |= set(draw(st.lists(st.sampled_from(others), max_size=len(others))))
    return n, {e: draw(RATE) for e in sorted(edges)}


@st.composite
def detailed_balance_networks(draw, min_states=2, max_states=6):
    """(n, rates, E): k_ij = exp(-(E_j - E_i)/2 + b_ij), b symmetric, on a connected graph."""
    n = draw(st.integers(min_states, max_states))
    energy = np.array(draw(st.lists(st.floats(-3.0, 3.0), min_size=n, max_size=n)))
    links = {(draw(st.integers(0, i - 1)), i) for i in range(1, n)}  # a random spanning tree
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    links |= set(draw(st.lists(st.sampled_from(pairs), max_size=len(pairs))))
    rates = {}
    for i, j in links:
        b = draw(st.floats(-2.0, 2.0))
        rates[i, j] = math.exp(-(energy[j] - energy[i]) / 2 + b)
        rates[j, i] = math.exp(-(energy[i] - energy[j]) / 2 + b)
    return n, rates, energy


def generator(n: int, rates: dict) -> MarkovGenerator:
    keys = sorted(rates)
    return MarkovGenerator(n, [i for i, _ in keys], [j for _, j in keys], [rates[k] for k in keys])


def dense_generator(n: int, rates: dict) -> np.ndarray:
    """W assembled entry by entry from the master equation, independently of the solver."""
    w = np.zeros((n, n))
    for (i, j), k in rates.items():
        w[j, i] += k
        w[i, i] -= k
    return w


def matrix_tree_stationary(n: int, rates: dict) -> np.ndarray:
    """p_i proportional to the sum over spanning arborescences rooted at i of prod rates.

    Brute force: every non-root state picks one outgoing jump; the choice is a tree rooted
    at i iff following the picks from every state reaches i.
    """
    weights = np.zeros(n)
    for root in range(n):
        others = [s for s in range(n) if s != root]
        options = [[j for j in range(n) if (s, j) in rates] for s in others]
        for picks in itertools.product(*options):
            nxt = dict(zip(others, picks, strict=True))
            if all(_reaches(s, root, nxt, n) for s in others):
                weights[root] += math.prod(rates[s, nxt[s]] for s in others)
    return weights / weights.sum()


def _reaches(s: int, root: int, nxt: dict, n: int) -> bool:
    for _ in range(n):
        if s == root:
            return True
        s = nxt[s]
    return s == root


def kirchhoff_imbalance(n: int, pairs: np.ndarray, current: np.ndarray) -> np.ndarray:
    out = np.zeros(n)
    np.add.at(out, pairs[:, 0], current)
    np.add.at(out, pairs[:, 1], -current)
    return out


# ---------------------------------------------------------------------- stationary state
@SETTINGS
@given(irreducible_networks(max_states=5))
def test_stationary_matches_matrix_tree_theorem(network):
    n, rates = network
    for method in ("direct", "iterative"):
        state = generator(n, rates).stationary(method=method)
        assert state.status == "ok"
        assert state.method == method
        np.testing.assert_allclose(state.probabilities, matrix_tree_stationary(n, rates),
                                   rtol=1e-9, atol=1e-14)


@SETTINGS
@given(irreducible_networks(max_states=8))
def test_stationary_is_a_normalised_distribution_with_zero_residual(network):
    n, rates = network
    p = generator(n, rates).stationary().probabilities
    assert np.all(p >= 0)
    assert p.sum() == pytest.approx(1.0, abs=1e-14)
    total_flux = sum(k * p[i] for (i, _), k in rates.items())
    assert np.max(np.abs(dense_generator(n, rates) @ p)) <= 1e-12 * total_flux


@SETTINGS
@given(irreducible_networks(min_states=3, max_states=8))
def test_direct_and_iterative_stationary_agree(network):
    n, rates = network
    gen = generator(n, rates)
    direct = gen.stationary(method="direct")
    iterative = gen.stationary(method="iterative")
    assert iterative.status == "ok"
    assert direct.iterations == 0
    np.testing.assert_allclose(iterative.probabilities, direct.probabilities, rtol=1e-8,
                               atol=1e-14)


@SETTINGS
@given(irreducible_networks(max_states=8))
def test_kirchhoff_current_law_holds_at_every_state(network):
    n, rates = network
    gen = generator(n, rates)
    p = gen.stationary().probabilities
    pairs, current = gen.net_currents(p)
    total_flux = gen.probability_fluxes(p).sum()
    assert np.max(np.abs(kirchhoff_imbalance(n, pairs, current))) <= 1e-12 * total_flux


def test_two_state_chain_closed_form():
    k01, k10 = 3.0, 0.5
    gen = MarkovGenerator(2, [0, 1], [1, 0], [k01, k10])
    p = gen.stationary().probabilities
    np.testing.assert_allclose(p, [k10 / (k01 + k10), k01 / (k01 + k10)], rtol=1e-14)
    gap = gen.spectral_gap(method="dense")
    assert gap.gap == pytest.approx(k01 + k10, rel=1e-13)
    assert gap.imag == 0.0
    assert gen.current(p, 0, 1) == pytest.approx(0.0, abs=1e-15)
    assert gen.entropy_production(p) == pytest.approx(0.0, abs=1e-15)


def test_transient_state_has_zero_probability():
    # 0 -> 1 only; 1 <-> 2 is the closed class with p = (0, k21, k12) / (k12 + k21).
    gen = MarkovGenerator(3, [0, 1, 2], [1, 2, 1], [1.0, 2.0, 6.0])
    assert not gen.is_irreducible()
    for method in ("direct", "iterative"):
        state = gen.stationary(method=method)
        assert state.status == "ok"
        np.testing.assert_allclose(state.probabilities, [0.0, 0.75, 0.25], atol=1e-13)


def test_two_closed_classes_report_no_unique_state():
    gen = MarkovGenerator(4, [0, 1, 2, 3], [1, 0, 3, 2], [1.0, 1.0, 1.0, 1.0])
    state = gen.stationary()
    assert state.status.startswith("not unique")
    assert np.all(np.isnan(state.probabilities))
    assert math.isnan(gen.entropy_production(state.probabilities))


# ---------------------------------------------------------------------- detailed balance
@SETTINGS
@given(detailed_balance_networks())
def test_detailed_balance_gives_boltzmann_state_zero_currents_and_entropy(network):
    n, rates, energy = network
    gen = generator(n, rates)
    assert gen.is_irreducible()
    assert gen.satisfies_kolmogorov()
    assert all(abs(a) < 1e-12 for _, a in gen.cycle_affinities())
    p = gen.stationary().probabilities
    boltzmann = np.exp(-(energy - energy.min()))
    np.testing.assert_allclose(p, boltzmann / boltzmann.sum(), rtol=1e-10)
    pairs, current = gen.net_currents(p)
    one_way = np.array([rates[i, j] * p[i] for i, j in pairs])
    assert np.all(np.abs(current) <= 1e-12 * one_way)
    assert gen.entropy_production(p) <= 1e-20 * one_way.sum()


@SETTINGS
@given(irreducible_networks(min_states=3))
def test_driven_cycle_breaks_kolmogorov_and_produces_entropy(network):
    n, rates = network
    gen = generator(n, rates)
    p = gen.stationary().probabilities
    sigma = gen.entropy_production(p)
    assert sigma >= 0
    reversible = all((j, i) in rates for i, j in rates)
    if not reversible:
        assert sigma == math.inf and not gen.satisfies_kolmogorov()
    elif gen.satisfies_kolmogorov():
        assert sigma <= 1e-9 * gen.probability_fluxes(p).sum()


# ---------------------------------------------------------------------- unicyclic network
@SETTINGS
@given(st.integers(3, 7).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(RATE, min_size=2 * n, max_size=2 * n))))
def test_unicyclic_entropy_production_is_current_times_affinity(case):
    n, k = case
    rates = {}
    for a in range(n):
        rates[a, (a + 1) % n] = k[2 * a]
        rates[(a + 1) % n, a] = k[2 * a + 1]
    affinity = sum(math.log(k[2 * a]) - math.log(k[2 * a + 1]) for a in range(n))
    gen = generator(n, rates)
    p = gen.stationary().probabilities
    currents = [gen.current(p, a, (a + 1) % n) for a in range(n)]
    # each current is a difference of one-way fluxes <= max rate: round-off ~ eps · max(k)
    np.testing.assert_allclose(currents, currents[0], rtol=1e-9, atol=1e-13 * max(k))
    assert gen.entropy_production(p) == pytest.approx(currents[0] * affinity, rel=1e-9,
                                                      abs=1e-12 * max(k))
    ((cycle, a),) = gen.cycle_affinities()
    assert sorted(cycle) == list(range(n))
    step = (cycle[1] - cycle[0]) % n  # 1: runs with the labels, n - 1: against them
    assert a == pytest.approx(affinity if step == 1 else -affinity, rel=1e-12, abs=1e-12)


def test_one_way_jump_carrying_flux_gives_infinite_entropy_production():
    # 0 -> 1 has no reverse jump; 1 <-> 2 <-> 0 are reversible.
    gen = MarkovGenerator(3, [0, 1, 2, 2, 0], [1, 2, 1, 0, 2], [1.0, 1.0, 1.0, 1.0, 1.0])
    p = gen.stationary().probabilities
    assert p[0] > 0
    assert gen.entropy_production(p) == math.inf
    assert not gen.satisfies_kolmogorov()
    ((cycle, affinity),) = gen.cycle_affinities()
    forward_has_0_to_1 = any(cycle[a] == 0 and cycle[(a + 1) % 3] == 1 for a in range(3))
    assert affinity == (math.inf if forward_has_0_to_1 else -math.inf)


def test_pairs_without_flux_contribute_no_entropy():
    # Two components 0 <-> 1 and 2 <-> 3; all probability on the second.
    gen = MarkovGenerator(4, [0, 1, 2, 3], [1, 0, 3, 2], [1.0, 2.0, 3.0, 0.5])
    sigma = gen.entropy_production(np.array([0.0, 0.0, 0.4, 0.6]))
    assert sigma == pytest.approx((3.0 * 0.4 - 0.5 * 0.6) * math.log(1.2 / 0.3), rel=1e-14)


# ---------------------------------------------------------------------- spectrum
def _eigenvalue_rtol(lam: np.ndarray, value: complex) -> float:
    """Relative accuracy to expect of ``value`` among the eigenvalues ``lam``: 1e-8, or for m
    of them clustered together (a Jordan block of size m moves by ~ε^(1/m) under a residual
    or round-off ε) ARNOLDI_TOL^(1/m)."""
    m = int(np.sum(np.abs(lam - value) < 1e-3 * abs(value)))
    return 1e-8 if m == 1 else markov_spectrum.ARNOLDI_TOL ** (1.0 / m)


@SETTINGS
@given(irreducible_networks(min_states=3, max_states=8))
@example((3, {(0, 1): 5.0, (1, 0): 1.0, (1, 2): 5.0, (2, 0): 1.0}))  # λ(λ + 6)²: defective
@example((4, {(0, 1): 1.0, (0, 3): 1.0, (1, 2): 1.0, (1, 3): 1.0, (2, 3): 1.0, (3, 0): 1.0}))
def test_gap_is_positive_and_arnoldi_matches_dense_eigenvalues(network):
    n, rates = network
    lam = np.linalg.eigvals(dense_generator(n, rates))
    lam = np.delete(lam, np.argmin(np.abs(lam)))
    expected = lam[np.argmax(lam.real)]
    # LAPACK and ARPACK gave 6 − 1.5e-8 and 6 − 4.5e-9 for the first example's exact 6, and
    # both 2 − 2.4e-6 for the second's Jordan block of 3 at 2
    rel = _eigenvalue_rtol(lam, expected)
    # Modes tied in real part (e.g. -2 and -2 +- i): the oscillating one sets the frequency.
    tied = lam[lam.real >= expected.real - 1e-8 * abs(expected)]
    frequency = np.max(np.abs(tied.imag))
    gen = generator(n, rates)
    for method in ("dense", "arnoldi"):
        gap = gen.spectral_gap(method=method)
        assert gap.method == method
        assert gap.gap > 0
        assert gap.gap == pytest.approx(-expected.real, rel=rel)
        # A (nearly) defective double eigenvalue splits by ~sqrt(round-off) into a pair.
        assert gap.imag == pytest.approx(frequency, rel=1e-8,
                                         abs=max(1e-6, rel) * abs(expected))


@SETTINGS
@given(detailed_balance_networks(min_states=5, max_states=8))
def test_gap_of_reversible_chain_from_rightmost_eigenvalues(network):
    # Forces the factorisation-free Arnoldi path used for spaces too large for sparse LU.
    n, rates, _ = network
    lam = np.sort(np.linalg.eigvals(dense_generator(n, rates)).real)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(markov_spectrum, "DIRECT_MAX_STATES", 1)
        gap = generator(n, rates).spectral_gap(method="arnoldi")
    assert gap.gap == pytest.approx(-lam[-2], rel=1e-8)


@SETTINGS
@given(irreducible_networks(min_states=5, max_states=8))
@example((6, {(0, 3): 2.0, (1, 4): 3.0, (2, 1): 6.0, (3, 2): 1.0, (3, 4): 4.0, (4, 5): 4.0,
              (5, 0): 7.0}))  # ARPACK's k <= n − 2 = 4 cannot certify: dense instead
@example((6, {(0, 1): 1.0, (0, 4): 1.0, (1, 0): 1.0, (1, 5): 1.0, (2, 1): 1.0, (2, 3): 1.0,
              (3, 1): 1.0, (4, 1): 1.0, (4, 2): 1.0, (5, 0): 1.0}))  # λ(λ + 2)⁵, defective
def test_filtered_arnoldi_rightmost_eigenvalue_matches_dense(network):
    # the power-filtered ARPACK of large generators, forced on small driven networks
    n, rates = network
    lam = np.linalg.eigvals(dense_generator(n, rates))
    lam = np.delete(lam, np.argmin(np.abs(lam)))
    found, vectors, products = markov_spectrum.rightmost_eigenvalues(
        generator(n, rates).matrix, 3, "arnoldi", zero_column_sums=True)
    rightmost = lam[np.argmax(lam.real)]
    # the last example: 2 Jordan blocks at −2, ARPACK −1.99992
    assert found[0].real == pytest.approx(rightmost.real, rel=_eigenvalue_rtol(lam, rightmost))
    assert products > 0 and vectors.shape == (n, found.size)


def test_filtered_gap_of_two_closed_classes_is_zero():
    # two separate driven rings: two stationary states, so W restricted to sum-zero
    # vectors still has the eigenvalue 0 (the difference of the two)
    n = 7
    ring = np.arange(n)
    source = np.r_[ring, ring, ring + n, ring + n]
    target = np.r_[(ring + 1) % n, (ring - 1) % n, (ring + 1) % n + n, (ring - 1) % n + n]
    rate = np.r_[np.full(n, 2.0), np.full(n, 0.5), np.full(n, 1.0), np.full(n, 0.3)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(markov_spectrum, "DIRECT_MAX_STATES", 1)
        gap = MarkovGenerator(2 * n, source, target, rate).spectral_gap(method="arnoldi")
    assert gap.gap == pytest.approx(0.0, abs=1e-12)


def test_filtered_arnoldi_on_a_matrix_without_zero_column_sums():
    # a sparse column-dominant matrix (a Markov generator with extra loss on the diagonal)
    rng = np.random.default_rng(3)
    n = 400
    rows, cols = rng.integers(0, n, 6 * n), rng.integers(0, n, 6 * n)
    off = rows != cols
    a = np.zeros((n, n))
    np.add.at(a, (rows[off], cols[off]), rng.uniform(0.1, 1.0, off.sum()))
    a -= np.diag(a.sum(axis=0) + rng.uniform(0.01, 0.5, n))
    lam = np.linalg.eigvals(a)
    found, _, _ = markov_spectrum.rightmost_eigenvalues(scipy.sparse.csr_matrix(a), 1, "arnoldi")
    assert found[0].real == pytest.approx(np.max(lam.real), rel=1e-10)
    dense, _, _ = markov_spectrum.rightmost_eigenvalues(scipy.sparse.csr_matrix(a), 1, "dense")
    assert np.sort_complex(dense) == pytest.approx(np.sort_complex(lam), abs=1e-12)


def test_filtered_arnoldi_and_bound_on_a_triangular_matrix_with_known_eigenvalues():
    # upper triangular: the eigenvalues are the diagonal, -0.1 the rightmost (non-normal)
    rng = np.random.default_rng(4)
    n = 300
    diagonal = -rng.permutation(np.linspace(0.1, 5.0, n))
    rows, cols = rng.integers(0, n, 3 * n), rng.integers(0, n, 3 * n)
    upper = rows < cols
    a = scipy.sparse.csr_matrix((rng.uniform(0.0, 0.1, upper.sum()),
                                 (rows[upper], cols[upper])), shape=(n, n))
    a = a + scipy.sparse.diags(diagonal)
    found, _, _ = markov_spectrum.rightmost_eigenvalues(a, 1, "arnoldi")
    assert found[0] == pytest.approx(-0.1, rel=1e-10)
    assert markov_spectrum.exceeds_real_part(a, -0.2)[0]
    assert not markov_spectrum.exceeds_real_part(a, -0.05)[0]


def test_ring_spectrum_closed_form():
    # Unidirectional ring of n states, rate k: lambda_m = k (exp(2 pi i m / n) - 1).
    n, k = 12, 2.0
    gen = MarkovGenerator(n, np.arange(n), (np.arange(n) + 1) % n, np.full(n, k))
    for method in ("dense", "arnoldi"):
        gap = gen.spectral_gap(method=method)
        assert gap.gap == pytest.approx(k * (1 - math.cos(2 * math.pi / n)), rel=1e-10)
        assert gap.imag == pytest.approx(k * math.sin(2 * math.pi / n), rel=1e-10)


# ---------------------------------------------------------------------- graph structure
def test_cycle_basis_spans_the_cycle_space():
    # Two triangles sharing the link 1-2 plus a pendant state 4 and a separate link 5-6:
    # m - n + c = 7 - 7 + 2 = 2 independent cycles.
    src = [0, 1, 2, 1, 3, 2, 3, 5]
    tgt = [1, 2, 0, 3, 2, 1, 4, 6]
    links = {frozenset(e) for e in zip(src, tgt, strict=True)}
    gen = MarkovGenerator(7, src, tgt, np.ones(8))
    cycles = gen.cycle_basis()
    assert len(cycles) == 2
    index = {link: a for a, link in enumerate(sorted(links, key=sorted))}
    vectors = np.zeros((len(cycles), len(links)))
    for row, cycle in enumerate(cycles):
        assert len(set(cycle)) == len(cycle) >= 3
        for a, b in zip(cycle, cycle[1:] + cycle[:1], strict=True):
            vectors[row, index[frozenset((a, b))]] += 1 if a < b else -1
    assert np.linalg.matrix_rank(vectors) == 2
    assert not gen.is_irreducible()  # 4 is absorbing


def test_canonical_edges_sum_duplicates_and_drop_zero_rates():
    gen = MarkovGenerator(3, [0, 0, 1, 2, 2], [1, 1, 2, 0, 1], [1.0, 2.0, 0.5, 0.0, 4.0])
    np.testing.assert_array_equal(gen.source, [0, 1, 2])
    np.testing.assert_array_equal(gen.target, [1, 2, 1])
    np.testing.assert_array_equal(gen.rate, [3.0, 0.5, 4.0])
    np.testing.assert_array_equal(gen.matrix.toarray(),
                                  [[-3.0, 0.0, 0.0], [3.0, -0.5, 4.0], [0.0, 0.5, -4.0]])


@pytest.mark.parametrize(
    ("source", "target", "rate", "message"),
    [
        pytest.param([0, 1], [1, 0], [1.0, -1.0], "negative rate", id="negative-rate"),
        pytest.param([0, 1], [1, 1], [1.0, 1.0], "self-loop", id="self-loop"),
        pytest.param([0, 3], [1, 0], [1.0, 1.0], "out of range", id="source-out-of-range"),
        pytest.param([0, 1], [-1, 0], [1.0, 1.0], "out of range", id="target-negative"),
        pytest.param([0, 1], [1, 0], [1.0, math.nan], "non-finite", id="nan-rate"),
        pytest.param([0, 1], [1, 0], [1.0, math.inf], "non-finite", id="inf-rate"),
        pytest.param([0, 1], [1], [1.0, 1.0], "equal length", id="shape-mismatch"),
    ],
)
def test_invalid_edges_raise_value_error(source, target, rate, message):
    with pytest.raises(ValueError, match=message):
        MarkovGenerator(3, source, target, rate)


def test_unknown_method_lists_the_valid_ones():
    gen = MarkovGenerator(2, [0, 1], [1, 0], [1.0, 1.0])
    with pytest.raises(ValueError, match="'direct', 'iterative'"):
        gen.stationary(method="lu")
    with pytest.raises(ValueError, match="'dense', 'arnoldi'"):
        gen.spectral_gap(method="qr")


def _two_immigration_death(a: float, b: float, cap: int):
    """Independent immigration–death processes (rates a and n, b and m) on a box 0..cap."""
    n = np.arange((cap + 1) ** 2)
    x, y = n // (cap + 1), n % (cap + 1)
    moves = ((x < cap, cap + 1, np.full(n.size, a)), (x > 0, -(cap + 1), x.astype(float)),
             (y < cap, 1, np.full(n.size, b)), (y > 0, -1, y.astype(float)))
    source = np.concatenate([n[ok] for ok, _, _ in moves])
    target = np.concatenate([n[ok] + step for ok, step, _ in moves])
    rate = np.concatenate([r[ok] for ok, _, r in moves])
    return MarkovGenerator(n.size, source, target, rate), x, y


def _truncated_poisson(a: float, cap: int) -> np.ndarray:
    """Poisson(a) on 0..cap, renormalised: the marginal of one box-truncated species."""
    k = np.arange(cap + 1)
    log_poisson = k * math.log(a) - np.array([math.lgamma(i + 1) for i in k])
    marginal = np.exp(log_poisson - log_poisson.max())
    return marginal / marginal.sum()


@pytest.mark.parametrize("method", ["direct", "iterative"])
def test_master_equation_with_tiny_tail_state_matches_truncated_poisson(method):
    """Box-truncated immigration–death keeps detailed balance, so p is a product of truncated
    Poissons; the longest-lived state (0, 0) has p ~ e^-40, a badly scaled pin."""
    a, cap = 20.0, 60
    gen, x, y = _two_immigration_death(a, a, cap)
    marginal = _truncated_poisson(a, cap)
    state = gen.stationary(method=method)
    assert state.status == "ok"
    np.testing.assert_allclose(state.probabilities, marginal[x] * marginal[y],
                               rtol=1e-7, atol=1e-14)


def test_iterative_solve_started_from_a_neighbouring_solution_needs_fewer_iterations():
    """A neighbour's p (immigration rate 20.5 instead of 20) as ``start``: the same exact
    product of truncated Poissons, reached in fewer BiCGSTAB iterations than from cold."""
    a, cap = 20.0, 60
    gen, x, y = _two_immigration_death(a, a, cap)
    marginal = _truncated_poisson(a, cap)
    neighbour = _two_immigration_death(a + 0.5, a + 0.5, cap)[0].stationary("direct")
    cold = gen.stationary(method="iterative")
    warm = MarkovGenerator(gen.n_states, gen.source, gen.target, gen.rate).stationary(
        method="iterative", start=neighbour.probabilities)
    assert warm.status == "ok"
    np.testing.assert_allclose(warm.probabilities, marginal[x] * marginal[y],
                               rtol=1e-7, atol=1e-14)
    assert warm.iterations < cold.iterations


@pytest.mark.parametrize("start, problem", [
    (np.zeros(4), "positive somewhere"), (np.array([1.0, -1.0, 0.0, 0.0]), ">= 0"),
    (np.array([np.nan, 1.0, 0.0, 0.0]), "finite"), (np.ones(3), "shape")])
def test_unusable_start_is_rejected_with_the_reason(start, problem):
    gen = MarkovGenerator(4, [0, 1, 2, 3], [1, 2, 3, 0], [1.0, 1.0, 1.0, 1.0])
    with pytest.raises(ValueError, match=problem):
        gen.stationary(start=start)


def test_arnoldi_gap_is_bit_reproducible():
    """Two solves of the same large network give the identical gap (no random ARPACK start)."""
    gen, _, _ = _two_immigration_death(3.0, 2.0, 25)
    first = MarkovGenerator(gen.n_states, gen.source, gen.target, gen.rate).spectral_gap("arnoldi")
    second = MarkovGenerator(gen.n_states, gen.source, gen.target, gen.rate).spectral_gap("arnoldi")
    assert first.gap == second.gap
    assert first.gap == pytest.approx(1.0, rel=1e-9)  # immigration–death: slowest rate = death rate


def test_shift_invert_gap_is_accurate_when_the_pin_is_a_tail_state():
    """After a direct solve pinned at (0, 0), p ~ e^-40, the shift-invert gap must still equal
    the exact slowest rate of two immigration–death processes: the death rate 1."""
    gen, _, _ = _two_immigration_death(20.0, 20.0, 60)
    assert gen.stationary(method="direct").status == "ok"
    assert gen.spectral_gap(method="arnoldi").gap == pytest.approx(1.0, rel=1e-9)
