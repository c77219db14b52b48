"""Plugin models (entry-point group ``ness_sweep.models``): the example plugin installed with
pip is a model like a built-in one (``ness models``, ``ness point``, ``evaluate``, a pipeline
study); bad plugins are named and never break the built-in models.

The example, ``biased_ring``, is a particle on a ring of N states with rates
k± = rate·exp(±drive/(2T)); its exact stationary state is uniform, so J = (k+ − k−)/N,
σ = (k+ − k−)·ln(k+/k−) and the gap is (k+ + k−)(1 − cos 2π/N) (the circulant spectrum).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ness_core import dataset, evaluate, sweep
from ness_core.models import MODELS, get_model

REPO = Path(__file__).resolve().parents[1]
DIST = "ness-sweep-plugin-example==1.0.0"


def ring_exact(N: int, drive: float, temperature: float = 1.0, rate: float = 1.0) -> dict:
    kp, km = rate * math.exp(drive / (2 * temperature)), rate * math.exp(-drive / (2 * temperature))
    return {"current": (kp - km) / N, "entropy_production": (kp - km) * math.log(kp / km),
            "gap": (kp + km) * (1 - math.cos(2 * math.pi / N))}


def with_path(*dirs: Path) -> dict[str, str]:
    """This process's environment with ``dirs`` prepended to PYTHONPATH."""
    paths = [str(d) for d in dirs] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep)
                                      if p]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths or [str(REPO)])}


def ness(*args: str, site: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ness_core.cli", *args], capture_output=True,
                          text=True, timeout=120, env=with_path(REPO, site))


def test_ness_models_lists_the_plugin_beside_every_built_in_model(example_plugin):
    out = ness("models", site=example_plugin)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert listed == set(MODELS) | {"biased_ring"}
    shown = ness("models", "biased_ring", site=example_plugin)
    assert shown.returncode == 0 and "population [state]" in shown.stdout


def test_ness_point_of_the_plugin_matches_the_exact_ring_current(example_plugin):
    out = ness("point", "biased_ring", "N=5", "drive=1.2", "temperature=0.8", "--json",
               site=example_plugin)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    exact = ring_exact(5, 1.2, 0.8)
    for key, value in exact.items():
        assert data[key] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(data["population"], np.full(5, 0.2), rtol=1e-12)
    assert data["status"] == "ok"


def test_evaluate_of_the_plugin_matches_the_exact_ring(example_plugin):
    for N, drive in ((3, 0.5), (8, -2.0), (40, 3.0)):
        out = evaluate("biased_ring", N=N, drive=drive, rate=2.5)
        exact = ring_exact(N, drive, rate=2.5)
        for key, value in exact.items():
            assert out[key] == pytest.approx(value, rel=1e-9), (N, drive, key)
        assert out["population"].shape == (N,)


def test_plugin_point_ids_hash_the_distribution_and_version(example_plugin):
    """The id is the hash of the canonical JSON with "plugin": "<dist>==<version>" (built
    here by hand), so an upgraded plugin recomputes; built-in ids carry no such key."""
    params = get_model("biased_ring").resolve({"N": 5})
    canonical = json.dumps({"model": "biased_ring",
                            "params": {k: f"float:{v!r}" if isinstance(v, float) else v
                                       for k, v in params.items()},
                            "plugin": DIST}, sort_keys=True, separators=(",", ":"))
    expected = hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()[:12]
    assert sweep.point_id("biased_ring", params) == expected
    study = sweep.Study("ring", "biased_ring", {"drive": [params["drive"]]}, {"N": 5})
    assert study.points()[0].id == expected


def test_an_upgraded_plugin_gets_new_point_ids(example_plugin, tmp_path):
    """Version 1.0.1 of the same plugin, installed elsewhere: same point, another id."""
    source = tmp_path / "src"
    shutil.copytree(REPO / "examples" / "ness-sweep-plugin-example", source)
    toml = source / "pyproject.toml"
    toml.write_text(toml.read_text().replace('version = "1.0.0"', 'version = "1.0.1"'))
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--target", str(site), str(source)],
                   check=True, capture_output=True, timeout=300)
    code = ("from ness_core import sweep; from ness_core.models import get_model; "
            "print(sweep.point_id('biased_ring', get_model('biased_ring').resolve({})))")
    ids = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=with_path(REPO, d), check=True).stdout.strip()
           for d in (example_plugin, site)]
    assert ids[0] == sweep.point_id("biased_ring", get_model("biased_ring").resolve({}))
    assert ids[0] != ids[1]


BAD_MODULE = '''
from ness_core.model import Model, Observable, Parameter


class NoCurrent(Model):
    name = "nocurrent"
    summary = "declares no current"
    parameters = (Parameter("drive", 0.0, "energy", "drive", axis="drive"),)
    observables = (Observable("gap", "1/time", "gap"),
                   Observable("entropy_production", "k_B/time", "sigma"))


class Misnamed(NoCurrent):
    name = "other_name"
    observables = (*NoCurrent.observables, Observable("current", "1/time", "J"))


class WrongShape(Misnamed):
    name = "wrongshape"

    def solve(self, params):
        return {"current": [0.0, 0.0], "gap": 1.0, "entropy_production": 0.0,
                "residual": 0.0, "status": "ok"}


class Undeclared(Misnamed):
    name = "undeclared"

    def solve(self, params):
        return {"current": 0.0, "gap": 1.0, "entropy_production": 0.0, "residual": 0.0,
                "status": "ok", "heat": 2.0}


class Missing(Misnamed):
    name = "missing"

    def solve(self, params):
        return {"current": 0.0, "entropy_production": 0.0, "residual": 0.0, "status": "ok"}
'''

BAD_ENTRY_POINTS = {
    "broken": "no_such_module_xyz:Model",
    "notamodel": "json:dumps",
    "nocurrent": "badplug:NoCurrent",
    "misnamed": "badplug:Misnamed",
    "climate": "badplug:Misnamed",
    "wrongshape": "badplug:WrongShape",
    "undeclared": "badplug:Undeclared",
    "missing": "badplug:Missing",
}
SOLVE_FAULTS = {  # plugins that load but break the contract when they solve
    "wrongshape": "observable 'current': expected a scalar, got shape (2,)",
    "undeclared": "returned undeclared observables heat",
    "missing": "did not return gap",
}


@pytest.fixture(scope="module")
def bad_site(tmp_path_factory) -> Path:
    """A site directory holding a distribution 'bad-plugins' whose entry points are broken
    in every way the registry must name (written by hand: importlib.metadata reads
    ``*.dist-info/METADATA`` and ``entry_points.txt``)."""
    site = tmp_path_factory.mktemp("bad_site")
    (site / "badplug.py").write_text(BAD_MODULE)
    info = site / "bad_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bad-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[ness_sweep.models]\n" + "".join(f"{k} = {v}\n" for k, v in BAD_ENTRY_POINTS.items()))
    return site


def test_ness_models_warns_once_per_bad_plugin_and_lists_the_rest(bad_site, example_plugin):
    out = subprocess.run([sys.executable, "-m", "ness_core.cli", "models"], capture_output=True,
                         text=True, timeout=120, env=with_path(REPO, bad_site, example_plugin))
    assert out.returncode == 0, out.stderr
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert listed == set(MODELS) | {"biased_ring"} | set(SOLVE_FAULTS)
    warnings = out.stderr.splitlines()
    bad = set(BAD_ENTRY_POINTS) - set(SOLVE_FAULTS)
    assert len(warnings) == len(bad)
    for name in bad:
        assert sum(f"entry point '{name} = " in w for w in warnings) == 1, name


@pytest.mark.parametrize(("name", "needle"), [
    ("broken", "cannot be imported: ModuleNotFoundError"),
    ("notamodel", "is not a subclass of ness_core.model.Model"),
    ("nocurrent", "missing observables current"),
    ("misnamed", "the class's name is 'other_name'"),
])
def test_selecting_a_bad_plugin_names_its_entry_point_and_the_fault(bad_site, name, needle):
    out = ness("point", name, site=bad_site)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert f"entry point '{name} = {BAD_ENTRY_POINTS[name]}' (bad-plugins 0.1)" in out.stderr
    assert needle in out.stderr


def test_a_plugin_named_like_a_built_in_never_replaces_it(bad_site):
    """The entry point 'climate' is reported by ``ness models``; ``climate`` stays built in."""
    out = ness("point", "climate", "drive=0", "--json", site=bad_site)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["current"] == pytest.approx(0.0, abs=1e-15)
    listing = ness("models", site=bad_site)
    assert "entry point 'climate = badplug:Misnamed' (bad-plugins 0.1)" in listing.stderr
    assert "is a built-in model" in listing.stderr


@pytest.mark.parametrize("name", sorted(SOLVE_FAULTS))
def test_evaluate_rejects_a_solve_that_breaks_the_declarations(bad_site, name):
    """Wrong shape, undeclared or missing observables: one error line, not NaN data."""
    out = ness("point", name, site=bad_site)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert out.stderr.startswith(f"error: model '{name}' at drive=0.0")
    assert SOLVE_FAULTS[name] in out.stderr


@pytest.mark.slow
def test_a_pipeline_study_of_the_plugin_model(example_plugin, tmp_path, snakemake_runner,
                                              monkeypatch):
    """snakemake on a 2-point grid of biased_ring: dataset.nc holds the exact ring values."""
    config = {"studies": {"ring_tiny": {"model": "biased_ring", "sweep": {"drive": [0.0, 1.5]},
                                        "fixed": {"N": 6}}}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("PYTHONPATH", with_path(REPO, example_plugin)["PYTHONPATH"])
    result = snakemake_runner(tmp_path, configfile, "results/ring_tiny/dataset.nc")
    assert result.returncode == 0, result.stderr[-3000:]
    ds = dataset.read_netcdf(tmp_path / "results/ring_tiny/dataset.nc")
    assert ds["population"].dims == ("drive", "state")
    for drive in (0.0, 1.5):
        point, exact = ds.sel(drive=drive), ring_exact(6, drive)
        for key, value in exact.items():
            assert float(point[key]) == pytest.approx(value, rel=1e-9, abs=1e-15), key
        np.testing.assert_allclose(point["population"].values, np.full(6, 1 / 6), rtol=1e-12)
    assert ds["population"].attrs["long_name"] == "stationary probability of each state"
    assert ds.attrs["model_plugin"] == DIST
