"""The `ness` command's contract (DESIGN.md): JSON shape; bad input exits 2 with one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from ness_core import MODELS, ParameterError, evaluate


def ness(*args):
    return subprocess.run(
        [sys.executable, "-m", "ness_core.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_models_lists_every_registered_model():
    out = ness("models")
    assert out.returncode == 0
    listed = {line.split()[0] for line in out.stdout.splitlines() if line.strip()}
    assert listed == set(MODELS)


def test_models_name_shows_parameters_with_ranges():
    out = ness("models", "climate")
    assert out.returncode == 0
    for name in ("drive", "temperature", "nu", "barrier", "E_W", "E_C", "E_I", "current"):
        assert name in out.stdout
    assert "temperature" in out.stdout and "(0, inf)" in out.stdout


def test_point_json_is_one_object_equal_to_evaluate():
    out = ness("point", "climate", "drive=1", "temperature=0.5", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    direct = evaluate("climate", drive=1.0, temperature=0.5)
    assert set(data) == set(direct)
    for key in ("current", "entropy_production", "gap", "p_warm", "residual"):
        assert data[key] == pytest.approx(float(direct[key]), rel=1e-12)
    assert data["status"] == "ok"


def test_point_json_writes_non_finite_as_strings():
    out = ness("point", "climate", "drive=0", "--json")
    data = json.loads(out.stdout)
    assert all(not (isinstance(v, float) and not math.isfinite(v)) for v in data.values())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["point", "nosuchmodel"], "unknown model 'nosuchmodel'"),
        (["point", "climate", "colour=3"], "no parameter 'colour'"),
        (["point", "climate", "temperature=-1"], "parameter 'temperature'"),
        (["point", "climate", "temperature=abc"], "parameter 'temperature'"),
        (["point", "climate", "drive"], "expected key=value"),
        (["models", "nosuchmodel"], "unknown model"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, needle):
    out = ness(*args)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert needle in lines[0]
    assert "Traceback" not in out.stderr
    assert out.stdout == ""


def test_version_names_the_package_and_its_version():
    import ness_core

    out = ness("--version")
    assert out.returncode == 0
    assert out.stdout.strip() == f"ness-sweep {ness_core.__version__}"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["point", "climate", "drve=1"], "did you mean 'drive'?"),
        (["point", "climat"], "did you mean 'climate'?"),
        (["models", "wir"], "did you mean 'wire'?"),
    ],
)
def test_a_misspelt_name_suggests_the_closest_one(args, needle):
    out = ness(*args)
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert needle in line


def test_a_name_unlike_any_suggests_nothing():
    from ness_core.models import get_model

    with pytest.raises(ParameterError) as info:
        get_model("climate").parameter("colour")
    assert "did you mean" not in str(info.value)


def test_point_without_json_shows_each_observable_with_its_unit():
    out = ness("point", "climate", "drive=1")
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(": ", 1) for line in out.stdout.splitlines())
    for o in MODELS["climate"].all_observables():
        if o.unit:
            assert lines[o.name].endswith(f" ({o.unit})"), lines[o.name]
    assert lines["status"] == "ok"
    value, unit = lines["current"].rsplit(" ", 1)
    assert float(value) == pytest.approx(float(evaluate("climate", drive=1.0)["current"]))


def test_models_name_prints_the_documented_conventions():
    out = ness("models", "wire")
    assert out.returncode == 0
    conventions = out.stdout.split("conventions:", 1)[1]
    # the README sends readers here for the contact reflection R and the lead conventions
    assert "reflection" in conventions and "T_L = temperature + drive/2" in conventions


@pytest.mark.parametrize(
    ("hours", "shown"),
    [(0.3 / 3600, "0.3 s"), (12 / 60, "12 min"), (8.55, "8.6 h"), (0.0, "0 s"),
     (59.99 / 60, "1 h"), (1234.4, "1234 h")],
)
def test_cpu_time_is_shown_in_the_unit_people_use(hours, shown):
    from ness_core.cli import human_duration

    assert human_duration(hours) == shown
