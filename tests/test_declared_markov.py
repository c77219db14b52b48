"""Markov jump processes declared in a config (model: markov) against generators built here.

Every reference value comes from a dense rate matrix assembled in this file with numpy from
the rate law written out by hand (not through the expression parser): the stationary state
as its null vector, the spectrum by numpy.linalg.eigvals, the current's scaled variance as
the second derivative of the largest eigenvalue of the tilted matrix (finite differences).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

from ness_core import cli, evaluate, get_model
from ness_core.models import declared

BLOCK = {
    "parameters": {"k": 1.0, "drive": 0.0},
    "states": ["A", "B", "C", "D"],
    "transitions": {
        "ab": {"from": "A", "to": "B", "forward": "k * exp(drive / 2)",
               "backward": "k * exp(-drive / 2)"},
        "bc": {"from": "B", "to": "C", "forward": "2 * k", "backward": "0.5"},
        "cd": {"from": "C", "to": "D", "forward": "1.5", "backward": "k ** 2"},
        "da": {"from": "D", "to": "A", "forward": "0.8", "backward": "1.1"},
        "ac": {"from": "A", "to": "C", "forward": "sqrt(k)", "backward": "0.3"},
    },
    "current": "ab",
}


def _name(block: dict) -> str:
    return declared.model_name("markov", declared.normalize("markov", block))


def _rates(k: float, drive: float) -> dict[tuple[int, int], float]:
    """BLOCK's rates, written out: (i, j) → rate of i → j (A, B, C, D = 0, 1, 2, 3)."""
    return {(0, 1): k * math.exp(drive / 2), (1, 0): k * math.exp(-drive / 2),
            (1, 2): 2 * k, (2, 1): 0.5, (2, 3): 1.5, (3, 2): k**2,
            (3, 0): 0.8, (0, 3): 1.1, (0, 2): math.sqrt(k), (2, 0): 0.3}


def _dense(rates: dict[tuple[int, int], float], n: int = 4, s: float = 0.0) -> np.ndarray:
    """W[j, i] = rate(i → j), the A → B jump tilted by e^s and B → A by e^-s."""
    w = np.zeros((n, n))
    for (i, j), r in rates.items():
        tilt = {(0, 1): math.exp(s), (1, 0): math.exp(-s)}.get((i, j), 1.0)
        w[j, i] += r * tilt
        w[i, i] -= r
    return w


def _stationary(w: np.ndarray) -> np.ndarray:
    p = scipy.linalg.null_space(w)[:, 0]
    return p / p.sum()


@pytest.mark.parametrize("k, drive", [(1.0, 0.0), (0.7, 1.5), (2.0, -3.0)])
def test_declared_markov_matches_the_dense_generator(k, drive):
    rates = _rates(k, drive)
    w = _dense(rates)
    p = _stationary(w)
    current = rates[0, 1] * p[0] - rates[1, 0] * p[1]
    sigma = sum((rates[i, j] * p[i] - rates[j, i] * p[j]) * math.log(rates[i, j] / rates[j, i])
                for (i, j) in rates if i < j)
    lam = np.linalg.eigvals(w)
    lam = np.delete(lam, np.argmin(np.abs(lam)))
    gap = -lam.real.max()
    out = evaluate(_name(BLOCK), k=k, drive=drive)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(current, abs=1e-10)
    assert out["entropy_production"] == pytest.approx(sigma, abs=1e-10)
    assert out["gap"] == pytest.approx(gap, abs=1e-10)
    for s, value in zip("ABCD", p, strict=True):
        assert out[f"probability_{s}"] == pytest.approx(value, abs=1e-12)


def test_current_variance_is_the_curvature_of_the_dense_scgf():
    rates = _rates(0.7, 1.5)
    h = 1e-2

    def theta(s: float) -> float:
        return float(np.linalg.eigvals(_dense(rates, s=s)).real.max())

    # five-point stencil: error O(h⁴) ~ 1e-8 relative
    curvature = (-theta(2 * h) + 16 * theta(h) - 30 * theta(0) + 16 * theta(-h)
                 - theta(-2 * h)) / (12 * h * h)
    out = evaluate(_name(BLOCK), k=0.7, drive=1.5, fluctuations=True)
    assert out["current_variance"] == pytest.approx(curvature, rel=1e-6)
    assert out["tur_ratio"] >= 2.0  # thermodynamic uncertainty relation


def test_zero_backward_rate_makes_sigma_infinite_and_says_so_in_status():
    block = {**BLOCK, "transitions": {**BLOCK["transitions"],
                                      "bc": {"from": "B", "to": "C", "forward": "2 * k",
                                             "backward": 0}}}
    rates = {**_rates(1.0, 0.5), (2, 1): 0.0}
    p = _stationary(_dense(rates))
    out = evaluate(_name(block), drive=0.5)
    assert out["entropy_production"] == math.inf
    assert "inf" in out["status"] and "'bc'" in out["status"]
    assert out["current"] == pytest.approx(rates[0, 1] * p[0] - rates[1, 0] * p[1], abs=1e-10)


def test_a_reducible_network_is_reported():
    block = {"states": ["A", "B", "C"], "transitions": {
        "ab": {"from": "A", "to": "B", "forward": 1.0, "backward": 0.0},
        "bc": {"from": "B", "to": "C", "forward": 1.0, "backward": 2.0}}}
    out = evaluate(_name(block))
    assert "reducible" in out["status"]
    # A is transient: the closed class {B, C} holds p_B/p_C = 2
    assert out["probability_A"] == pytest.approx(0.0, abs=1e-14)
    assert out["probability_B"] == pytest.approx(2 / 3, abs=1e-12)


def test_detailed_balance_gives_zero_current_and_sigma():
    block = {**BLOCK, "transitions": {k: v for k, v in BLOCK["transitions"].items()
                                      if k in ("ab", "bc", "cd")}}
    m = get_model(_name(block))
    params = m.resolve({"drive": 1.3})
    assert m.is_equilibrium(params)  # a tree: Kolmogorov holds whatever the rates
    out = evaluate(m.name, drive=1.3)
    assert abs(out["current"]) < 1e-14 and abs(out["entropy_production"]) < 1e-14


def test_the_name_is_the_normalised_block():
    spaced = {**BLOCK, "transitions": {**BLOCK["transitions"],
                                       "bc": {"from": "B", "to": "C", "forward": "2*k",
                                              "backward": "(0.5)"}}}
    assert _name(spaced) == _name(BLOCK)
    assert _name({**BLOCK, "current": "bc"}) != _name(BLOCK)


STUDY = ("studies:\n  cycle:\n    model: markov\n    markov:\n"
         "      parameters: {k: 1.0, drive: 0.0}\n      states: [A, B]\n"
         "      transitions:\n        ab: {from: A, to: B, forward: %s, backward: %s}\n"
         "%s    sweep: {drive: [0.0, 1.0]}\n")


@pytest.mark.parametrize("forward, backward, extra, words", [
    ('"__import__(\'os\').system(\'true\')"', "1", "", ["study 'cycle'", "'ab'", "not allowed"]),
    ('"k.real"', "1", "", ["study 'cycle'", "Attribute is not allowed"]),
    ('"lambda: 1"', "1", "", ["study 'cycle'", "not allowed"]),
    ('"q * 2"', "1", "", ["study 'cycle'", "unknown name 'q'"]),
    ('"9 ** 9 ** 9"', "1", "", ["study 'cycle'", "exceeds"]),
    ('"k - 2"', "1", "", ["study 'cycle'", "negative", "sweep point"]),
    ("1", "1", "      current: ba\n", ["study 'cycle'", "'ba' is not a transition"]),
])
def test_bad_markov_blocks_give_one_config_error_line(forward, backward, extra, words,
                                                      tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(STUDY % (forward, backward, extra), encoding="utf-8")
    code = cli.main(["plan", str(path), "-d", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("config error: ") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize("block, words", [
    ({"states": ["A", "B"], "transitions": {"ab": {"from": "A", "to": "X", "forward": 1,
                                                   "backward": 1}}}, ["'X' is not a state"]),
    ({"states": ["A", "B"], "transitions": {
        "ab": {"from": "A", "to": "B", "forward": 1, "backward": 1},
        "ba": {"from": "B", "to": "A", "forward": 1, "backward": 1}}}, ["same states"]),
    ({"states": ["A", "A"], "transitions": {}}, ["repeated"]),
])
def test_bad_markov_structure_is_refused_naming_the_key(block, words):
    from ness_core.errors import ParameterError

    with pytest.raises(ParameterError) as info:
        declared.normalize("markov", block)
    for word in words:
        assert word in str(info.value)
