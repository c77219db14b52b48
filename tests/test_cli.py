"""The `ness` command's contract (DESIGN.md): JSON shape; bad input exits 2 with one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from ness_core import MODELS, evaluate


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
