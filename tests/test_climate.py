"""Climate cycle (DOMAIN.md S5) against exact results computed independently here."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ness_core import evaluate

WARM, COOL, ICY = 0, 1, 2
CLOCKWISE = {(WARM, COOL), (COOL, ICY), (ICY, WARM)}


def rate_table(drive, temperature, nu=1.0, barrier=1.0, energies=(0.0, -0.5, -1.0)):
    """k[i][j] straight from the S5 rate law."""
    k = np.zeros((3, 3))
    for i, j in itertools.permutations(range(3), 2):
        s = 1.0 if (i, j) in CLOCKWISE else -1.0
        k[i, j] = nu * math.exp(
            -(barrier + (energies[j] - energies[i]) / 2 - s * drive / 2) / temperature
        )
    return k


def matrix_tree_populations(k):
    """Kirchhoff: p_r ∝ Σ over spanning trees directed into r of the product of their rates."""
    weights = np.zeros(3)
    for root in range(3):
        others = [s for s in range(3) if s != root]
        for choice in itertools.product(range(3), repeat=len(others)):
            parent = dict(zip(others, choice, strict=True))
            if any(parent[s] == s for s in others):
                continue
            if all(_reaches(s, root, parent) for s in others):
                weights[root] += math.prod(k[s, parent[s]] for s in others)
    return weights / weights.sum()


def _reaches(s, root, parent):
    for _ in range(3):
        if s == root:
            return True
        s = parent[s]
    return s == root


def closed_form_gap(k):
    """Nonzero eigenvalues of a 3-state generator: λ² + aλ + b = 0.

    a = Σ rates, b = Σ spanning-tree weights (sum of the principal 2×2 minors).
    """
    a = k.sum()
    b = sum(
        k[i, j] * k[m, n]
        for (i, j), (m, n) in itertools.combinations(itertools.permutations(range(3), 2), 2)
        if i != m and not (j == m and n == i)  # two edges out of different states, no 2-cycle
    )
    disc = complex(a * a - 4 * b)
    root = np.sqrt(disc)
    return (a - root.real) / 2, abs(root.imag) / 2


params = st.fixed_dictionaries(
    {
        "drive": st.floats(-4, 4),
        "temperature": st.floats(0.2, 3),
        "nu": st.floats(0.1, 10),
        "barrier": st.floats(-1, 2),
        "E_W": st.floats(-1, 1),
        "E_C": st.floats(-1, 1),
        "E_I": st.floats(-1, 1),
    }
)


@settings(max_examples=60, deadline=None)
@given(params)
@example({"drive": 1e-08, "temperature": 0.2, "nu": 1.0, "barrier": -1.0, "E_W": 0.0,
          "E_C": 0.0, "E_I": 0.0})
def test_populations_and_current_match_matrix_tree_theorem(p):
    k = rate_table(
        p["drive"], p["temperature"], p["nu"], p["barrier"], (p["E_W"], p["E_C"], p["E_I"])
    )
    expected = matrix_tree_populations(k)
    out = evaluate("climate", **p)
    got = np.array([out["p_warm"], out["p_cool"], out["p_icy"]])
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14)
    current = expected[WARM] * k[WARM, COOL] - expected[COOL] * k[COOL, WARM]
    # a difference of one-way fluxes: near equilibrium (drive 1e-8, T = 0.2: fluxes 49.5,
    # J ~ 2.5e-6) both sides lose digits to cancellation, ~1e-16 of the fluxes each
    one_way = expected[WARM] * k[WARM, COOL] + expected[COOL] * k[COOL, WARM]
    assert out["current"] == pytest.approx(current, rel=1e-9, abs=1e-14 + 1e-14 * one_way)
    assert out["status"] == "ok"


@settings(max_examples=60, deadline=None)
@given(params)
def test_entropy_production_is_current_times_affinity(p):
    out = evaluate("climate", **p)
    affinity = 3 * p["drive"] / p["temperature"]
    assert out["affinity"] == pytest.approx(affinity, rel=1e-10, abs=1e-12)
    assert out["entropy_production"] == pytest.approx(
        out["current"] * affinity, rel=1e-8, abs=1e-14
    )
    assert out["entropy_production"] >= 0


@settings(max_examples=40, deadline=None)
@given(params)
def test_gap_matches_closed_form_three_state_spectrum(p):
    k = rate_table(
        p["drive"], p["temperature"], p["nu"], p["barrier"], (p["E_W"], p["E_C"], p["E_I"])
    )
    gap, imag = closed_form_gap(k)
    out = evaluate("climate", **p)
    # near a double eigenvalue the closed form's square root amplifies round-off to ~sqrt(eps)*a
    tol = 1e-7 * k.sum()
    assert out["gap"] == pytest.approx(gap, rel=1e-9, abs=tol)
    assert out["gap_imag"] == pytest.approx(imag, rel=1e-7, abs=tol)


@pytest.mark.parametrize("temperature", [0.1, 0.5, 1.0, 5.0])
def test_zero_drive_is_equilibrium(temperature):
    out = evaluate("climate", drive=0.0, temperature=temperature)
    assert abs(out["current"]) < 1e-12
    assert abs(out["entropy_production"]) < 1e-12
    boltzmann = np.exp(-np.array([0.0, -0.5, -1.0]) / temperature)
    np.testing.assert_allclose(
        [out["p_warm"], out["p_cool"], out["p_icy"]], boltzmann / boltzmann.sum(), rtol=1e-12
    )


def test_current_reverses_with_drive():
    """Reversing the drive of a cycle with equal energies reverses the current (symmetry)."""
    flat = {"E_W": 0.0, "E_C": 0.0, "E_I": 0.0, "temperature": 0.7}
    forward = evaluate("climate", drive=1.3, **flat)["current"]
    backward = evaluate("climate", drive=-1.3, **flat)["current"]
    assert forward > 0
    assert backward == pytest.approx(-forward, rel=1e-12)
