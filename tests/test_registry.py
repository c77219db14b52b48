"""The model registry imports a model's module only when that model is asked for.

Each check runs in a fresh interpreter and reads ``sys.modules``: which modules a statement
imports is a property of the code, not a timing (the start-up it saves is measured in
benchmarks/throughput.py).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ness_core.model import Model
from ness_core.models import BUILTIN, MODELS, get_model

REPO = Path(__file__).resolve().parents[1]
MODEL_MODULES = sorted(path.partition(":")[0] for path in BUILTIN.values())
# heavy libraries no registry lookup needs: datasets, the network solvers, plotting
HEAVY = ("xarray", "netCDF4", "pandas", "matplotlib", "ness_core.networks", "scipy.spatial",
         "scipy.integrate")


def modules_after(code: str) -> set[str]:
    """The names in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, cwd=REPO, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_import_ness_core_imports_no_model_module_and_no_dataset_library():
    loaded = modules_after("import ness_core")
    assert not loaded & set(MODEL_MODULES)
    assert not loaded & set(HEAVY)
    assert "scipy" not in loaded


def test_evaluate_imports_only_the_model_it_evaluates():
    loaded = modules_after("import ness_core; ness_core.evaluate('climate', drive=1.0)")
    assert loaded & set(MODEL_MODULES) == {"ness_core.models.climate"}
    assert not loaded & set(HEAVY)


def test_listing_and_membership_import_no_model_module():
    loaded = modules_after("from ness_core.models import MODELS\n"
                           "assert list(MODELS)[0] == 'climate' and len(MODELS) == "
                           f"{len(BUILTIN)}\nassert 'asep' in MODELS and 'ring' not in MODELS")
    assert not loaded & set(MODEL_MODULES)


@pytest.mark.parametrize("script", ["simulate.py", "gather.py"])
def test_job_scripts_import_no_model_module_at_start(script):
    """The module-level imports of a simulate or gather job: the model comes later, from
    the manifest (one model per job), so no model's solvers load before it is known."""
    tree = ast.parse((REPO / "workflow" / "scripts" / script).read_text())
    imports = [ast.unparse(node) for node in tree.body
               if isinstance(node, ast.Import | ast.ImportFrom)]
    assert any("ness_core" in line for line in imports)
    loaded = modules_after("\n".join(imports))
    assert not loaded & set(MODEL_MODULES)
    assert not loaded & {"ness_core.networks", "scipy.spatial", "matplotlib"}


@pytest.mark.parametrize("name", list(BUILTIN))
def test_each_registry_entry_is_the_model_of_that_name(name):
    model = MODELS[name]
    assert isinstance(model, Model)
    assert model.name == name
    assert type(model).__name__ == BUILTIN[name].partition(":")[2]
    assert MODELS[name] is model and get_model(name) is model  # one instance per process


def test_registry_is_read_only_and_rejects_unknown_names():
    with pytest.raises(KeyError):
        MODELS["no_such_model"]  # noqa: B018
    with pytest.raises(TypeError):
        MODELS["climate"] = MODELS["asep"]  # type: ignore[index]
    assert dict(MODELS.items()).keys() == BUILTIN.keys()
