"""One convention across models (docs/conventions.md), checked on every registered model.

* every model states where its equilibrium lies (``Model.equilibrium``), or that it has none;
* at each declared equilibrium point (``Model.equilibrium_examples``) ``is_equilibrium`` holds,
  the net ``current`` and the entropy production vanish (to round-off / solver tolerance) and
  the gap of physical observables is positive;
* ``drive`` is a force: moving it off 0 leaves equilibrium and produces entropy.

Models without an equilibrium (``plasma``) are skipped with their own stated reason.
"""

from __future__ import annotations

import pytest

from ness_core import evaluate
from ness_core.models import MODELS

# |current|, |σ| at equilibrium: round-off of the solvers (the largest measured is 1.4e-15,
# the harmonic chain's heat current; Kerr's κ(⟨a†a⟩ − n) is a difference of O(1) numbers)
ROUND_OFF = 1e-10
# drive moved off the first equilibrium example, within every model's range
NUDGE = {"corrosion": 0.02}  # V: η = 20 mV; others in their own energy units
DEFAULT_NUDGE = 0.2


def _cases() -> list:
    cases = []
    for name, model in sorted(MODELS.items()):
        if model.equilibrium.startswith("none"):
            cases.append(pytest.param(name, None, id=f"{name}-none", marks=pytest.mark.skip(
                reason=f"{name} has no equilibrium: {model.equilibrium}")))
            continue
        for k, example in enumerate(model.equilibrium_examples):
            cases.append(pytest.param(name, example, id=f"{name}-{k}"))
    return cases


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_states_where_its_equilibrium_is(name):
    model = MODELS[name]
    assert model.equilibrium and model.equilibrium != "not declared"
    if model.equilibrium.startswith("none"):
        assert not model.equilibrium_examples
    else:
        assert model.equilibrium_examples, "a declared equilibrium needs example points"
        assert "drive" in model.equilibrium


@pytest.mark.parametrize(("name", "example"), _cases())
def test_no_current_and_no_entropy_production_at_declared_equilibrium(name, example):
    model = MODELS[name]
    assert model.is_equilibrium(model.resolve(example))
    out = evaluate(name, **example)
    assert out["status"] == "ok"
    assert abs(out["current"]) <= ROUND_OFF
    assert abs(out["entropy_production"]) <= ROUND_OFF
    assert out["gap"] > 0


@pytest.mark.parametrize("name", [n for n, m in sorted(MODELS.items())
                                  if m.equilibrium_examples])
def test_nonzero_drive_leaves_equilibrium_and_produces_entropy(name):
    model = MODELS[name]
    point = {**model.equilibrium_examples[0], "drive": NUDGE.get(name, DEFAULT_NUDGE)}
    assert not model.is_equilibrium(model.resolve(point))
    out = evaluate(name, **point)
    assert out["status"] == "ok"
    assert out["entropy_production"] > 0  # (the wire's particle current may still vanish:
    # ΔT at μ = ε drives heat only, by particle–hole symmetry)
