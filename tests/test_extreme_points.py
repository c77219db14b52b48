"""A point that fails numerically is data, not a crash (issue 15, section 2).

Every registered model is evaluated at the extreme allowed values of each numeric parameter,
one at a time with the others at their defaults (sizes kept small): each must either be
refused as bad input (:class:`ParameterError`) or give a result whose ``status`` is exactly
``"ok"`` or a failure reason, with NaN (never ±inf garbage) in the core observables of a
failed point, and physical values at an ``"ok"`` one (finite current, gap ≥ 0, σ ≥ 0 up to
round-off). A per-point alarm turns a hang into a failure. Then one regression test per
example of the issue.
"""

from __future__ import annotations

import math
import signal
import sys
import warnings
from contextlib import contextmanager

import numpy as np
import pytest

from ness_core import evaluate
from ness_core.errors import ParameterError
from ness_core.models import MODELS
from ness_core.status import GAP_ATOL, OK, SIGMA_ATOL, check_result, combine
from ness_core.sweep import Study, measured_cost

POINT_SECONDS = 20  # a point slower than this counts as a hang
# Small sizes so that the whole sweep of extremes stays well under a minute on 2 cores.
BASE = {
    "asep": {"L": 4},
    "xxz": {"L": 4, "gap_sectors": "zero"},
    "wire": {"N": 6},
    "harmonic_chain": {"N": 4},
    "plasma": {"cells": 16, "max_cells": 64, "rtol": 0.01, "profile_points": 5},
    "corrosion": {"cells": 16, "max_cells": 128, "rtol": 1e-3, "profile_points": 5},
    "chemostat": {"max_states": 2000, "events": 10000},
}
HUGE, TINY = 1e300, 1e-300
# Extremes that run into an iteration bound rather than finish early: bounded, but slow.
SLOW = {("plasma", "drive"): "the tail continuation towards P → 0 uses its 2000 points (~12 s)"}
CORE = ("current", "entropy_production", "gap")


def extreme_values(p) -> list:
    """Low and high bounds (just inside when exclusive), ±1e300 where unbounded, 1e-300
    above a lower bound of 0; integers (sizes, counts, seeds) only at their low bound unless
    their range is short."""
    if p.kind is int:
        values = [p.low] if p.low is not None else []
        if p.high is not None and p.low is not None and p.high - p.low <= 10:
            values.append(p.high)
        return values
    values = []
    if p.low is None:
        values.append(-HUGE)
    else:
        values.append(p.low if p.low_inclusive else float(np.nextafter(p.low, math.inf)))
        if p.low == 0:
            values.append(TINY)
    if p.high is None:
        values.append(math.inf if p.allow_inf else HUGE)
        if p.allow_inf:
            values.append(HUGE)
    else:
        values.append(p.high if p.high_inclusive else float(np.nextafter(p.high, -math.inf)))
    return values


CASES = [
    pytest.param(name, p.name, value, id=f"{name}-{p.name}={value!r}",
                 marks=[pytest.mark.slow] if (name, p.name) in SLOW and 0 < value < 1e-200
                 else [])
    for name, model in MODELS.items()
    for p in model.parameters
    if p.kind in (int, float)
    for value in extreme_values(p)
]


@contextmanager
def alarm(seconds: int):
    """Raise TimeoutError after ``seconds`` (Python-level; the main thread only)."""
    def handler(signum, frame):
        raise TimeoutError(f"point ran for more than {seconds} s")

    if sys.platform == "win32":  # no SIGALRM
        yield
        return
    previous = signal.signal(signal.SIGALRM, handler)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def check_point(result: dict) -> None:
    status = result["status"]
    assert isinstance(status, str) and status, status
    assert not status.startswith("ok;"), status  # partial results go to note
    assert isinstance(result["note"], str)
    if status != OK:
        for name in CORE:
            value = float(result[name])
            assert math.isnan(value) or math.isfinite(value) or name == "entropy_production", (
                f"{name} = {value} at a failed point ({status})")
        return
    assert check_result(result, signed_gap=False) == OK or result.get("gap", 0) < 0
    current, gap = float(result["current"]), float(result["gap"])
    sigma = float(result["entropy_production"])
    assert not math.isinf(current), current
    assert math.isnan(gap) or gap >= -GAP_ATOL or result.get("branch_label") == "middle", gap
    assert math.isnan(sigma) or sigma >= -SIGMA_ATOL * max(1.0, abs(current)), sigma


@pytest.mark.parametrize(("model", "name", "value"), CASES)
def test_extreme_parameter_is_refused_or_recorded(model, name, value):
    params = {**BASE.get(model, {}), name: value}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with alarm(POINT_SECONDS):
            try:
                result = evaluate(model, **params)
            except ParameterError:
                return
    check_point(result)


# ---------------------------------------------------------------------- the examples
def quiet_evaluate(model: str, **params) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with alarm(POINT_SECONDS):
            return evaluate(model, **params)


def test_climate_at_low_temperature_is_solved_in_logs():
    """T = 0.001: the rates span e^-250 … e^-1750, beyond the double range. The exact
    three-state solution: the icy state holds everything, the slow mode is W, C draining
    into I at the largest rate e^-250 (both steps W→C, C→I; λ² + 2e^-250 λ + e^-500)."""
    out = quiet_evaluate("climate", temperature=0.001)
    assert out["status"] == OK
    assert out["p_icy"] == pytest.approx(1.0) and out["p_warm"] == 0.0
    assert out["affinity"] == pytest.approx(3000.0)
    assert out["gap"] == pytest.approx(math.exp(-250.0), rel=1e-9)
    assert out["current"] == 0.0  # ~e^-1000, below the smallest double
    assert out["entropy_production"] == 0.0


def test_climate_log_solution_matches_the_generator_where_both_work():
    from ness_core.models.climate import Climate, _solve_in_logs, climate_rates

    for params in ({}, {"drive": -2.0, "temperature": 0.3}, {"barrier": -1.0, "E_W": 3.0}):
        direct = quiet_evaluate("climate", **params)
        source, target, log_rate = climate_rates(Climate().resolve(params))
        logs = _solve_in_logs(source, target, log_rate, direct["affinity"], False)
        for key in ("current", "entropy_production", "gap", "gap_imag", "p_warm", "p_icy"):
            assert logs[key] == pytest.approx(direct[key], rel=1e-10, abs=1e-15), key


def test_climate_with_a_huge_energy_keeps_the_rest_exact():
    """E_W = 1e5 at T = 0.5 (drive 1): the warm state is unreachable (p_W = 0), and the
    pair C ↔ I balances alone: p_C/p_I = k_IC/k_CI = exp(−(E_C − E_I + drive)/T) = e^−3."""
    out = quiet_evaluate("climate", E_W=1e5, temperature=0.5)
    assert out["status"] == OK and out["p_warm"] == 0.0
    assert out["p_cool"] / out["p_icy"] == pytest.approx(math.exp(-3.0), rel=1e-9)
    assert out["current"] == 0.0 and out["gap"] > 0


@pytest.mark.parametrize(("model", "params"), [
    ("corrosion", {"drive": 1.0, "exchange_current": 1e300}),
    ("plasma", {"conductivity": 1e-300}),
    ("plasma", {"kappa_exponent": 4.0, "radiation": 1e300}),
    ("qubit", {"drive": 1e300}),
    ("qubit", {"temperature": 1e300}),
    ("corrosion", {"drive": 1.0, "density": 1e-300}),
], ids=lambda x: x if isinstance(x, str) else ",".join(f"{k}={v:g}" for k, v in x.items()))
def test_former_crash_or_garbage_is_a_status_with_nan(model, params):
    """Used to raise ValueError (corrosion, plasma) or say "ok" with gap −1.65e122
    (qubit drive), residual ∞ (qubit temperature) or σ = −∞ (corrosion density)."""
    try:
        out = quiet_evaluate(model, **params)
    except ParameterError:  # the parameter's range may be narrowed by the model's owner
        pytest.skip(f"{params} is no longer an allowed point of {model}")
    if out["status"] == OK:  # handled properly: then it must be physical
        check_point(out)
    else:
        assert all(math.isnan(float(out[k])) for k in CORE), out


def test_xxz_weak_coupling_is_fast_and_scales_with_the_coupling():
    """Γ = 1e-300 at L = 8 ran > 45 s in the LU; solved at Γ = 1e-6 and scaled, the rates
    are Γ times their weak-coupling values (J/Γ → μ·… , here checked against Γ = 1e-6)."""
    weak = quiet_evaluate("xxz", L=4, coupling=1e-300)
    ref = quiet_evaluate("xxz", L=4, coupling=1e-6)
    assert weak["status"] == OK and "weak coupling" in weak["note"]
    for key in ("current", "entropy_production", "gap"):
        assert weak[key] / 1e-300 == pytest.approx(ref[key] / 1e-6, rel=1e-9), key
    assert weak["current"] > 0 and weak["gap"] > 0


def test_solver_exception_becomes_status_but_bad_input_still_raises(monkeypatch):
    model = MODELS["climate"]

    def broken(params):
        raise OverflowError("math range error")

    monkeypatch.setattr(model, "solve", broken)
    out = evaluate("climate")
    assert out["status"] == "failed: OverflowError: math range error"
    assert all(math.isnan(out[k]) for k in CORE)
    with pytest.raises(ParameterError):
        evaluate("climate", temperature=-1.0)


def test_asep_partial_formula_result_is_ok_with_a_note():
    from ness_core.models.asep import FORMULA_PROFILE_MAX_L

    out = quiet_evaluate("asep", L=FORMULA_PROFILE_MAX_L + 1, method="formula")
    assert out["status"] == OK
    assert "density_profile not computed" in out["note"]
    assert np.isnan(out["density_profile"]).all() and out["current"] > 0


def test_combine_keeps_the_first_failure():
    assert combine("ok", "ok") == OK
    assert combine("ok", "gap failed", "not converged") == "gap failed"
    assert combine("", "ok") == OK


def test_check_result_flags_unphysical_ok_points():
    assert check_result({"current": 0.5, "gap": -1.65e122, "residual": 0.0}) != OK
    assert check_result({"current": 1.0, "gap": 1.0, "residual": math.inf}) != OK
    assert check_result({"current": 1.0, "gap": 1.0, "entropy_production": -math.inf}) != OK
    assert check_result({"current": 1.0, "gap": -1e-16, "entropy_production": -1e-17,
                         "residual": 1e-15}) == OK
    assert check_result({"gap": -0.3}, signed_gap=True) == OK


def test_measured_cost_survives_failing_points():
    """``ness plan`` times a few points of a model without a cost estimate (climate):
    points that fail numerically, or that needed the log-space solution, still time."""
    study = Study(name="extremes", model="climate",
                  axes={"temperature": [0.001, 1e-300, 1.0]}, fixed={"barrier": 1e300})
    seconds = measured_cost(study, study.points())
    assert math.isfinite(seconds) and seconds >= 0


def test_chunk_with_failing_and_partial_points_goes_on(tmp_path):
    """A chunk holding a point whose solve raises and one that needed a note still gives
    one dataset, strings intact through netCDF."""
    from ness_core.dataset import compute_chunk, read_netcdf, write_netcdf

    points = [{"id": "a", "params": {"temperature": 0.001, "fluctuations": True}},
              {"id": "b", "params": {"drive": 1e300}},
              {"id": "c", "params": {}}]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = compute_chunk({"model": "climate", "points": points})
    write_netcdf(ds, tmp_path / "chunk.nc")
    back = read_netcdf(tmp_path / "chunk.nc")
    status = [str(s) for s in back["status"].values]
    assert status[0] == OK and status[2] == OK and status[1].startswith("failed:")
    assert "current_variance not computed" in str(back["note"].values[0])
    assert math.isnan(float(back["current"].values[1]))


def test_assemble_reads_chunks_written_before_note_existed(tmp_path):
    from ness_core.dataset import assemble, compute_chunk, write_netcdf

    study = Study(name="old", model="climate", axes={"drive": [0.0, 1.0]}, fixed={})
    points = [{"id": p.id, "params": p.params} for p in study.points()]
    old = compute_chunk({"model": "climate", "points": points}).drop_vars("note")
    write_netcdf(old, tmp_path / "old.nc")
    ds = assemble(study, [tmp_path / "old.nc"])
    assert list(ds["note"].values) == ["", ""] and list(ds["status"].values) == [OK, OK]
