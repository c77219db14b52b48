"""Grid expansion, stable point ids and chunk planning (ness_core.sweep), without Snakemake."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from ness_core import configs, sweep
from ness_core.errors import ParameterError
from ness_core.models import get_model


def climate_study(**overrides):
    spec = {"model": "climate",
            "sweep": {"drive": {"start": 0.0, "stop": 2.0, "num": 5}, "temperature": [0.5, 1.0]},
            "fixed": {"barrier": 1.0}}
    spec.update(overrides)
    return configs.parse_study("s", spec)


def test_linear_range_matches_numpy_linspace():
    values = configs.expand_values({"start": -1.0, "stop": 3.0, "num": 7})
    np.testing.assert_array_equal(values, np.linspace(-1.0, 3.0, 7))


def test_log_range_matches_numpy_logspace():
    values = configs.expand_values({"start": 0.01, "stop": 100.0, "num": 9, "scale": "log"})
    np.testing.assert_allclose(values, np.logspace(-2, 2, 9), rtol=1e-14)
    assert values[0] == pytest.approx(0.01) and values[-1] == pytest.approx(100.0)


def test_list_is_taken_verbatim_and_single_value_range_is_start():
    assert configs.expand_values([3, 1, 2]) == [3, 1, 2]
    assert configs.expand_values({"start": 2.5, "stop": 2.5, "num": 1}) == [2.5]


@pytest.mark.parametrize("spec, words", [
    ([], "empty"),
    ({"start": 0, "stop": 1, "num": 0}, "num"),
    ({"start": 2, "stop": 1, "num": 3}, "smaller than start"),
    ({"start": 0, "stop": 1, "num": 3, "scale": "log"}, "start > 0"),
    ({"start": 0, "stop": 1, "num": 3, "scale": "cubic"}, "scale"),
    ({"start": 0, "num": 3}, "start, stop, num"),
    (1.5, "list of values or a range"),
])
def test_malformed_sweeps_are_rejected(spec, words):
    with pytest.raises(ValueError, match=words):
        configs.expand_values(spec)


def test_grid_is_full_product_in_config_axis_order():
    study = configs.parse_study("s", {"model": "climate", "sweep": {
        "temperature": [0.5, 1.0, 2.0], "drive": [0.0, 1.0]}})
    assert list(study.axes) == ["temperature", "drive"] and study.shape == (3, 2)
    coords = [p.coords for p in study.points()]
    assert coords == [(t, d) for t in (0.5, 1.0, 2.0) for d in (0.0, 1.0)]
    assert all(p.params["barrier"] == 1.0 for p in study.points())  # model default


def test_int_parameter_range_is_coerced_to_integers():
    study = configs.parse_study("g", {"model": "asep", "sweep": {"L": {"start": 4, "stop": 8,
                                                                     "num": 5}}})
    assert study.axes["L"] == [4, 5, 6, 7, 8]
    assert all(isinstance(v, int) for v in study.axes["L"])


def test_point_id_is_independent_hash_of_model_and_all_parameters():
    study = climate_study()
    point = study.points()[3]
    text = json.dumps({"model": "climate", "params": {
        k: "float:" + repr(v) if isinstance(v, float) else v
        for k, v in point.params.items()}}, sort_keys=True,
        separators=(",", ":"))
    assert point.id == hashlib.blake2b(text.encode(), digest_size=16).hexdigest()[:12]


def test_point_ids_are_stable_and_unique():
    first, again = climate_study().points(), climate_study().points()
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first) == 10


def test_changing_a_fixed_parameter_changes_every_id():
    ids = {p.id for p in climate_study().points()}
    other = {p.id for p in climate_study(fixed={"barrier": 1.5}).points()}
    assert ids.isdisjoint(other)


def test_fixing_a_parameter_at_its_default_keeps_the_ids():
    default = get_model("climate").parameter("barrier").default
    assert [p.id for p in climate_study(fixed={}).points()] == [
        p.id for p in climate_study(fixed={"barrier": default}).points()]


def test_swept_value_order_does_not_change_a_points_id():
    a = climate_study(sweep={"drive": [0.0, 1.0], "temperature": [0.5]})
    b = climate_study(sweep={"temperature": [0.5], "drive": [1.0, 0.0]})
    assert {p.id for p in a.points()} == {p.id for p in b.points()}


def manifests_of(chunks):
    return {c.id: [p.id for p in c.points] for c in chunks}


def test_replan_with_all_chunks_computed_gives_the_same_chunks():
    study = climate_study(chunk_size=3)
    chunks = sweep.plan_chunks(study, study.points(), {}, set())
    assert [len(c.points) for c in chunks] == [3, 3, 3, 1]
    again = sweep.plan_chunks(study, study.points(), manifests_of(chunks),
                              {c.id for c in chunks})
    assert again == chunks


def test_replan_with_planned_but_uncomputed_chunks_keeps_them():
    study = climate_study(chunk_size=4)
    chunks = sweep.plan_chunks(study, study.points(), {}, set())
    assert sweep.plan_chunks(study, study.points(), manifests_of(chunks), set()) == chunks


def test_adding_a_value_puts_only_new_points_in_new_chunks():
    old = climate_study(chunk_size=4)
    chunks = sweep.plan_chunks(old, old.points(), {}, set())
    new = climate_study(chunk_size=4, sweep={"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                                             "temperature": [0.5, 1.0, 2.0]})
    replanned = sweep.plan_chunks(new, new.points(), manifests_of(chunks),
                                  {c.id for c in chunks})
    fresh = [c for c in replanned if c.id not in manifests_of(chunks)]
    fresh_ids = {p.id for c in fresh for p in c.points}
    assert fresh_ids == {p.id for p in new.points()} - {p.id for p in old.points()}
    assert len(fresh_ids) == 5
    covered = [p.id for c in replanned for p in c.points]
    assert sorted(covered) == sorted(p.id for p in new.points())  # each point exactly once


def test_interrupted_run_replans_only_missing_points():
    study = climate_study(chunk_size=3)
    chunks = sweep.plan_chunks(study, study.points(), {}, set())
    # only the first chunk finished; the others were planned and are kept as they are
    again = sweep.plan_chunks(study, study.points(), manifests_of(chunks), {chunks[0].id})
    assert again == chunks


def test_removed_value_drops_unfinished_chunks_that_held_it():
    study = climate_study(chunk_size=4)
    chunks = sweep.plan_chunks(study, study.points(), {}, set())
    smaller = climate_study(chunk_size=4, sweep={"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                                                 "temperature": [0.5]})
    replanned = sweep.plan_chunks(smaller, smaller.points(), manifests_of(chunks), set())
    assert sorted(p.id for c in replanned for p in c.points) == sorted(
        p.id for p in smaller.points())


def chunk_seconds(chunks, seconds_per_point):
    return [len(c.points) * seconds_per_point for c in chunks]


def test_automatic_chunks_follow_the_cost_estimate(monkeypatch):
    study = climate_study()
    model = get_model("climate")
    monkeypatch.setattr(model, "cost_estimate", lambda params: 0.75)
    monkeypatch.setattr(sweep, "TARGET_CHUNK_SECONDS", 2.0)
    chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=1)
    # 7.5 s of work in jobs of at least 2 s: three jobs, none shorter than 2 s
    assert len(chunks) == 3 and min(chunk_seconds(chunks, 0.75)) >= 2.0
    assert [p.id for c in chunks for p in c.points] == [
        p.id for p in sweep.path_order(study, study.points())]


@pytest.mark.parametrize("cores, jobs", [(1, 1), (2, 2), (3, 3), (16, 3)])
def test_automatic_chunks_use_the_cores_in_jobs_of_at_least_three_seconds(monkeypatch, cores,
                                                                          jobs):
    """10 points of 1 s: far below the 30 s target; one job per core while each gets at
    least 3 s (P <= 3), and no more than three jobs on more cores."""
    study = climate_study()
    monkeypatch.setattr(get_model("climate"), "cost_estimate", lambda params: 1.0)
    chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=cores)
    assert len(chunks) == jobs
    sizes = [len(c.points) for c in chunks]
    assert max(sizes) - min(sizes) <= 1  # equal costs: equal shares
    assert [p.id for c in chunks for p in c.points] == [
        p.id for p in sweep.path_order(study, study.points())]


def test_a_study_too_small_to_share_stays_one_job(monkeypatch):
    """10 points of 0.1 s: splitting 1 s over 2 cores would cost more job start-up than
    it saves."""
    study = climate_study()
    monkeypatch.setattr(get_model("climate"), "cost_estimate", lambda params: 0.1)
    assert len(sweep.plan_chunks(study, study.points(), {}, set(), cores=2)) == 1


def test_automatic_chunks_balance_uneven_costs(monkeypatch):
    """One point costs as much as the nine others together: it gets a job of its own."""
    study = climate_study()
    expensive = study.points()[-1].params
    monkeypatch.setattr(get_model("climate"), "cost_estimate",
                        lambda params: 9.0 if params == expensive else 1.0)
    chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=2)
    assert [len(c.points) for c in chunks] == [9, 1]


def test_plan_study_writes_manifests_once(tmp_path):
    study = climate_study(chunk_size=4)
    chunks = sweep.plan_study(study, tmp_path)
    files = sorted(tmp_path.glob("*.json"))
    assert [f.stem for f in files] == sorted(c.id for c in chunks)
    stamps = [f.stat().st_mtime_ns for f in files]
    assert sweep.plan_study(study, tmp_path) == chunks
    assert [f.stat().st_mtime_ns for f in files] == stamps
    manifest = sweep.read_manifest(files[0])
    assert manifest["model"] == "climate" and manifest["chunk"] == files[0].stem
    point = manifest["points"][0]
    assert sweep.point_id("climate", point["params"]) == point["id"]


def _asep_profile_study(y):
    return {"studies": {"profiles": {
        "model": "asep", "sweep": {"rho_left": [0.2, 0.8]}, "fixed": {"L": 6},
        "figures": [{"kind": "line", "x": "site", "y": y, "hue": "rho_left"}]}}}


def test_line_figure_may_run_along_a_model_dimension():
    studies = configs.parse_config(_asep_profile_study(["density_profile"]))
    assert studies["profiles"].figures[0]["x"] == "site"


def test_profile_figure_of_an_observable_without_that_dimension_is_rejected():
    with pytest.raises(ParameterError,
                       match=r"study 'profiles'.*'current' has no dimension 'site'"):
        configs.parse_config(_asep_profile_study(["current"]))


def test_model_revision_enters_point_ids():
    """A model whose conventions changed (revision > 0) gets new ids, built alike by
    Study.points and point_id; a model at revision 0 keeps the ids it always had."""
    kerr = configs.parse_study("k", {"model": "kerr", "sweep": {"drive": [1.0, 2.0]}})
    assert get_model("kerr").revision > 0
    for point in kerr.points():
        assert point.id == sweep.point_id("kerr", point.params)
        unrevised = sweep.canonical_json({"model": "kerr", "params": point.params})
        assert point.id != hashlib.blake2b(unrevised.encode(), digest_size=16).hexdigest()[:12]
    climate = configs.parse_study("c", {"model": "climate", "sweep": {"drive": [1.0]}})
    (point,) = climate.points()
    plain = sweep.canonical_json({"model": "climate", "params": point.params})
    assert get_model("climate").revision == 0
    assert point.id == hashlib.blake2b(plain.encode(), digest_size=16).hexdigest()[:12]
