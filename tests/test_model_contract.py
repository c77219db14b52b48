"""The model contract (ness_core.model.Model, docs/adding-a-model.md), checked on every model.

Parametrised over every registered model: the built-in ones (``MODELS``), every installed
plugin model (entry-point group ``ness_sweep.models``), the example plugin of
``examples/ness-sweep-plugin-example`` (installed for the test), a reaction network
(``model: network``) and a declared Markov and Lindblad model (``model: markov``,
``model: lindblad``) read from the repository's configs. So a new model is checked without
anyone writing a test for it. For each:

* it declares ``current``, ``entropy_production`` and ``gap``;
* its default point solves (``status == "ok"``), returning exactly the declared observables,
  each with its declared dims (and the declared length along ``dimension_lengths``);
* ``status`` and ``note`` are strings; σ ≥ 0 (second law, up to round-off);
* ``resolve`` rejects an unknown key and suggests the closest parameter name;
* at each point it declares as equilibrium (``equilibrium_examples``, and the default point
  where ``is_equilibrium`` holds there) ``is_equilibrium`` is true and J = σ = 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ness_core import configs, evaluate, resources
from ness_core.errors import ConfigError, ParameterError
from ness_core.models import MODELS, get_model, plugins
from ness_core.models.network import short_name

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_PLUGIN = "biased_ring"
# |J|, |σ| at equilibrium: solver round-off (as tests/test_conventions.py)
ROUND_OFF = 1e-10
# σ may fall below 0 by round-off of a sum of terms ≥ 0
SIGMA_ROUND_OFF = 1e-12
# Models declared in the repository's configs: (config file, study name) per kind.
DECLARED = {
    "network": ("config/networks.yaml", "schlogl_up"),
    "markov": ("config/declared.yaml", "markov_cycle"),
    "lindblad": ("config/declared.yaml", "qubit_two_baths"),
}


def _cases() -> list:
    cases = [pytest.param(("builtin", name), id=name) for name in sorted(MODELS)]
    installed = sorted(set(plugins.entry_points()) - set(MODELS) - {EXAMPLE_PLUGIN})
    cases += [pytest.param(("plugin", name), id=f"plugin-{name}") for name in installed]
    cases.append(pytest.param(("example", EXAMPLE_PLUGIN), id=f"example-{EXAMPLE_PLUGIN}"))
    cases += [pytest.param(("declared", kind), id=f"declared-{kind}") for kind in DECLARED]
    return cases


def _declared_model_name(kind: str) -> str:
    """The model name of the study DECLARED[kind], as the workflow builds it; skips with the
    reason when that form or its config is not in this checkout."""
    path, study = DECLARED[kind]
    if not (REPO / path).is_file():
        pytest.skip(f"model: {kind}: {path} is not in this checkout")
    spec = configs.read_config_file(REPO / path)["studies"].get(study)
    if spec is None:
        pytest.skip(f"model: {kind}: {path} has no study {study}")
    try:
        studies = configs.load_config({"studies": {study: spec}}, resources.SCHEMA)
    except ConfigError as exc:
        pytest.skip(f"model: {kind} is not available here: {exc}")
    return studies[study].model


@pytest.fixture(params=_cases())
def model_name(request) -> str:
    source, name = request.param
    if source == "example":
        request.getfixturevalue("example_plugin")
    elif source == "declared":
        return _declared_model_name(name)
    return name


@pytest.fixture
def default_point(model_name):
    """The model and its evaluated default point (once per model)."""
    return get_model(model_name), evaluate(model_name)


def test_declares_the_core_observables(model_name):
    declared = {o.name for o in get_model(model_name).all_observables()}
    assert {"current", "entropy_production", "gap", "residual", "status", "note"} <= declared


def test_default_point_solves_with_exactly_the_declared_observables(default_point):
    model, out = default_point
    assert isinstance(out["status"], str) and isinstance(out["note"], str)
    assert out["status"] == "ok", out["status"]
    declared = {o.name: o for o in model.all_observables()}
    assert set(out) == set(declared)
    params = model.resolve({})
    for name, obs in declared.items():
        if obs.kind is str:
            assert isinstance(out[name], str), name
            continue
        value = np.asarray(out[name], dtype=float)
        assert value.ndim == len(obs.dims), (name, value.shape, obs.dims)
        for dim, n in zip(obs.dims, value.shape, strict=True):
            if dim in model.dimension_lengths and value.size:
                assert n == params[model.dimension_lengths[dim]], (name, dim)


def test_entropy_production_is_not_negative(default_point):
    _, out = default_point
    assert out["entropy_production"] >= -SIGMA_ROUND_OFF * max(1.0, abs(out["current"]))


def test_resolve_rejects_an_unknown_key_and_suggests_the_closest(model_name):
    model = get_model(model_name)
    closest = max((p.name for p in model.parameters), key=len)
    typo = closest + closest[-1]  # one letter more: closer to it than to any other name
    with pytest.raises(ParameterError) as info:
        model.resolve({typo: 1})
    assert f"'{typo}'" in str(info.value)
    assert f"did you mean '{closest}'?" in str(info.value)


def test_current_and_entropy_production_vanish_at_declared_equilibria(model_name):
    model = get_model(model_name)
    points = [dict(p) for p in model.equilibrium_examples]
    if model.is_equilibrium(model.resolve({})):
        points.append({})
    if not points:
        pytest.skip(f"{short_name(model_name)} declares no equilibrium point: "
                    f"{model.equilibrium}")
    for point in points:
        assert model.is_equilibrium(model.resolve(point)), point
        out = evaluate(model_name, **point)
        assert out["status"] == "ok", (point, out["status"])
        assert abs(out["current"]) <= ROUND_OFF, point
        assert abs(out["entropy_production"]) <= ROUND_OFF, point
