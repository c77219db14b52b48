"""CF conventions of a study's dataset.nc: UDUNITS units (the model's own unit system in
``model_units``), no fill values on coordinates, ``Conventions`` and ``history``; checked
by the IOOS compliance checker (cf:1.11, the version the files declare, and cf:1.8)."""

from __future__ import annotations

import math
import warnings

import netCDF4
import pytest

from ness_core import dataset, plots, sweep
from ness_core.models import MODELS
from ness_core.sweep import Study

# tiny sizes: every model's dataset in a few seconds
SMALL = {"asep": {"L": 4, "method": "exact"}, "wire": {"N": 4}, "harmonic_chain": {"N": 3},
         "xxz": {"L": 3}}


def drive_values(name: str) -> list:
    """Two allowed values of ``drive`` near its default (one where only one is allowed)."""
    par = MODELS[name].parameter("drive")
    start = par.default if math.isfinite(par.default) else 1.0  # asep: inf (TASEP)
    values = [start]
    for step in (0.1, -0.1):
        try:
            values.append(par.coerce(start + step * max(abs(start), 1.0)))
            break
        except Exception:
            continue
    return values


def study_dataset(tmp_path, study: Study):
    """``results/<study>/dataset.nc`` as the workflow builds it: chunk files, then gather."""
    chunks = sweep.plan_study(study, tmp_path / study.name)
    paths = []
    for chunk in chunks:
        manifest = sweep.read_manifest(tmp_path / study.name / f"{chunk.id}.json")
        path = tmp_path / study.name / f"{chunk.id}.nc"
        dataset.write_netcdf(dataset.compute_chunk(manifest), path, digest=True)
        paths.append(path)
    out = tmp_path / f"{study.name}.nc"
    dataset.write_netcdf(dataset.assemble(study, paths), out)
    return out


def model_study(name: str) -> Study:
    return Study(name=f"{name}_cf", model=name, axes={"drive": drive_values(name)},
                 fixed=SMALL.get(name, {}))


STUDIES = [pytest.param(model_study(name), id=name) for name in sorted(MODELS)] + [
    pytest.param(Study(name="asep_lengths", model="asep",
                       axes={"L": [3, 4], "drive": [1.0, 2.0]}, fixed={"method": "exact"}),
                 id="asep-integer-axis")]
# A swept text parameter (asep `method`) becomes a string coordinate variable, which CF's
# coordinate variables (numeric, monotonic) do not allow: such datasets are not CF.


def failures(path, suite: str, priorities=(1, 2, 3)) -> list[str]:
    from compliance_checker.runner import CheckSuite

    checks = CheckSuite()
    with warnings.catch_warnings():  # the deprecated ioos_sos suite loads with the rest
        warnings.simplefilter("ignore", DeprecationWarning)
        checks.load_all_available_checkers()
    (groups, errors), = checks.run_all(checks.load_dataset(str(path)), [suite],
                                       skip_checks=[]).values()
    assert not errors, errors
    bad = []
    for g in groups:
        failed = (g.value is False or (isinstance(g.value, tuple) and g.value[0] < g.value[1]))
        if failed and g.weight in priorities:
            bad.append(f"{g.name}: {'; '.join(g.msgs)}")
    return bad


@pytest.mark.parametrize("study", STUDIES)
def test_every_models_dataset_passes_the_cf_checker(tmp_path, study):
    pytest.importorskip("compliance_checker", reason="compliance-checker (test extra) missing")
    path = study_dataset(tmp_path, study)
    assert failures(path, "cf:1.11") == []
    assert failures(path, "cf:1.8", priorities=(3,)) == []  # 1.8: high priority


@pytest.mark.parametrize("study", STUDIES[:1] + STUDIES[-1:])
def test_coordinates_carry_no_fill_value_and_the_file_says_its_conventions(tmp_path, study):
    path = study_dataset(tmp_path, study)
    with netCDF4.Dataset(path) as nc:
        for axis in study.axes:
            assert "_FillValue" not in nc.variables[axis].ncattrs()
        assert nc.getncattr("Conventions") == dataset.CONVENTIONS
        (line,) = nc.getncattr("history").splitlines()
        assert nc.getncattr("created") in line and f"study '{study.name}'" in line
        assert "model_units" in nc.getncattr("model_units_convention")
        assert "units" not in nc.variables["status"].ncattrs()


def test_units_are_udunits_and_the_model_unit_is_kept():
    cf_units = pytest.importorskip("cf_units", reason="cf-units (with compliance-checker)")
    for model in MODELS.values():
        declared = {p.unit for p in model.parameters}
        declared |= {o.unit for o in model.all_observables() if o.kind is not str}
        for unit in declared:
            units, model_units = dataset.cf_units(unit)
            cf_units.Unit(units)  # parses
            assert (model_units or units) == (unit or "1")
    assert dataset.cf_units("1/time") == ("1", "1/time")
    assert dataset.cf_units("A/m²") == ("A m-2", "A/m²")
    assert dataset.cf_units("V") == ("V", None)
    assert dataset.cf_units("cells") == ("1", "cells")


def test_axis_labels_show_the_models_unit(tmp_path):
    ds = dataset.read_netcdf(study_dataset(tmp_path, model_study("climate")))
    assert ds["current"].attrs["units"] == "1"
    assert plots.label(ds["current"]).endswith("[1/time]")
    assert plots.label(ds["drive"]).endswith("[energy]")
    assert dataset.declared_unit(ds["current"]) == "1/time"
