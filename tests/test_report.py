"""Consistency checks of the standalone report on hand-made datasets with known verdicts."""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ness_core.report import consistency_checks, verdict


def climate_dataset(sigma, status=("ok", "ok", "ok")):
    """A climate study swept over drive = 0, 1, 2 (drive = 0 is its equilibrium point)."""
    return xr.Dataset(
        {"entropy_production": ("drive", np.array(sigma, float)),
         "residual": ("drive", np.full(3, 1e-16)),
         "status": ("drive", np.array(status, dtype=object))},
        coords={"drive": [0.0, 1.0, 2.0]},
        attrs={"model": "climate", "swept_axes": json.dumps(["drive"]),
               "resolved_parameters": json.dumps({"temperature": 1.0, "barrier": 1.0})})



def test_clean_study_passes_and_checks_its_equilibrium_point():
    checks = consistency_checks(climate_dataset([0.0, 0.5, 3.0]))
    assert any("1 equilibrium points" in c["check"] and c["passed"] for c in checks)
    assert verdict(checks) == "pass"


def test_entropy_production_at_equilibrium_fails():
    checks = consistency_checks(climate_dataset([1e-6, 0.5, 3.0]))
    assert any("equilibrium" in c["check"] and c["passed"] is False for c in checks)
    assert verdict(checks) == "fail"


def test_negative_entropy_production_fails_the_second_law():
    checks = consistency_checks(climate_dataset([0.0, -1e-3, 3.0]))
    assert checks[0]["check"].startswith("σ ≥") and checks[0]["passed"] is False


def test_failed_points_are_a_warning_with_their_reason():
    checks = consistency_checks(climate_dataset([0.0, np.nan, 3.0],
                                                ("ok", "no upper branch", "ok")))
    status = checks[-1]
    assert status["passed"] is None and "no upper branch" in status["value"]
    assert verdict(checks) == "warn"


def test_driven_asep_at_zero_field_is_not_an_equilibrium_point():
    """ρ_L ≠ ρ_R: zero field still leaves a density-driven current, so no σ = 0 check."""
    ds = xr.Dataset(
        {"entropy_production": ("drive", [0.1, 0.3]), "residual": ("drive", [0.0, 0.0]),
         "status": ("drive", np.array(["ok", "ok"], dtype=object))},
        coords={"drive": [0.0, 1.0]},
        attrs={"model": "asep", "swept_axes": json.dumps(["drive"]),
               "resolved_parameters": json.dumps({"L": 4, "rho_left": 0.8, "rho_right": 0.2})})
    checks = consistency_checks(ds)
    assert not any("equilibrium" in c["check"] for c in checks)
    assert verdict(checks) == "pass"
