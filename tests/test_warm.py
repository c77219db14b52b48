"""Warm starts along a chunk (ness_core.warm): path order, and results that do not depend on
chunking or order. References are cold solves by a different algorithm (ARPACK's Arnoldi
for the gap, against the warm path's Newton continuation)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import xarray as xr

from ness_core import configs, dataset, sweep
from ness_core.api import evaluate
from ness_core.models import get_model
from ness_core.models.asep import exact_generator, rates_from_params
from ness_core.warm import solve_path

# L = 12: 4096 states, above the sparse-LU limit 2^11, so the cold gap is which="LR" Arnoldi
# and the warm one Newton continuation (MarkovGenerator.track_gap).
ASEP = {"L": 12, "rho_left": 0.7, "rho_right": 0.2}
DRIVES = [1.0, 1.04, 1.08, 1.12, 1.16, 1.2, 1.24, 1.28, 1.32]


def relative(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)) / np.abs(np.asarray(b))


def test_path_order_is_a_snake_through_the_grid():
    study = configs.parse_study("g", {"model": "climate", "sweep": {
        "drive": [0.0, 0.5, 1.0, 1.5], "temperature": [0.5, 1.0, 2.0]}})
    path = sweep.path_order(study, study.points())
    assert sorted(p.id for p in path) == sorted(p.id for p in study.points())
    drive, temperature = study.axes["drive"], study.axes["temperature"]
    index = [(drive.index(p.coords[0]), temperature.index(p.coords[1])) for p in path]
    steps = [abs(a[0] - b[0]) + abs(a[1] - b[1]) for a, b in itertools.pairwise(index)]
    assert steps == [1] * (len(path) - 1)  # every step changes one index by one
    # the fastest axis is the last numeric one: temperature runs 0,1,2 then 2,1,0
    assert [i[1] for i in index[:6]] == [0, 1, 2, 2, 1, 0]


def test_path_order_runs_along_the_last_numeric_axis():
    study = configs.parse_study("g", {"model": "asep", "sweep": {
        "drive": [1.0, 2.0, 3.0], "method": ["exact", "mc"]}, "fixed": {"L": 4}})
    path = sweep.path_order(study, study.points())
    assert [p.coords for p in path] == [(1.0, "exact"), (2.0, "exact"), (3.0, "exact"),
                                        (3.0, "mc"), (2.0, "mc"), (1.0, "mc")]


def test_path_order_takes_points_off_the_configured_grid_in_value_order():
    """Refinement proposes values the config does not list: they are ordered by value."""
    study = configs.parse_study("g", {"model": "climate", "sweep": {
        "drive": [0.0, 1.0, 2.0], "temperature": [0.5, 1.0]}})
    points = [sweep.Point(sweep.point_id("climate", {"drive": d, "temperature": t}), (d, t),
                          {}, ("drive", "temperature"))
              for d, t in [(1.7, 1.0), (0.3, 0.5), (1.7, 0.5), (0.3, 1.0), (1.0, 0.5)]]
    path = sweep.path_order(study, points)
    # drive ranks 0, 0.3, 1, 1.7, 2 → 0.3 and 1.7 odd: temperature runs backwards there
    assert [p.coords for p in path] == [(0.3, 1.0), (0.3, 0.5), (1.0, 0.5), (1.7, 1.0),
                                        (1.7, 0.5)]


def asep_study(chunk_size):
    spec = {"model": "asep", "sweep": {"drive": DRIVES}, "fixed": ASEP}
    if chunk_size is not None:
        spec["chunk_size"] = chunk_size
    return configs.parse_study("asep_warm", spec)


@pytest.fixture(scope="module")
def cold():
    """Every point evaluated alone (cold)."""
    return [evaluate("asep", drive=d, **ASEP) for d in DRIVES]


def test_results_do_not_depend_on_chunking(cold):
    """Chunk sizes 1, 7 and automatic give the cold results to 1e-10 on current and gap,
    and the cold residual (the stationary solve is the same)."""
    for size in (1, 7, None):
        study = asep_study(size)
        chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=1)
        if size is None:
            assert len(chunks) == 1  # ~1 s of work: one automatic chunk, one path
        parts = [dataset.compute_chunk(c.manifest(study)) for c in chunks]
        ds = xr.concat(parts, dim="point")
        by_id = {str(p): k for k, p in enumerate(ds["point"].values)}
        rows = [by_id[p.id] for p in study.points()]
        assert list(ds["status"].values[rows]) == ["ok"] * len(DRIVES)
        for name in ("current", "gap"):
            expected = [r[name] for r in cold]
            assert np.all(relative(ds[name].values[rows], expected) <= 1e-10), (size, name)
        np.testing.assert_allclose(ds["residual"].values[rows], [r["residual"] for r in cold],
                                   rtol=1e-6)


def test_warm_gap_is_continued_and_agrees_with_arnoldi():
    """Along the path the gap comes from Newton continuation (not Arnoldi), within 1e-10 of
    the cold Arnoldi gap; the stored residual is max |W p| of this point's generator."""
    m = get_model("asep")
    first = m.solve_warm(m.resolve({"drive": DRIVES[0], **ASEP}), None)
    params = m.resolve({"drive": DRIVES[1], **ASEP})
    step = m.solve_warm(params, first.state)
    assert first.state.method == "arnoldi" and step.state.method == "newton"
    assert step.refused == "" and 0 < step.work < first.work
    generator = exact_generator(12, rates_from_params(params))
    cold_gap = generator.spectral_gap().gap
    assert relative(step.result["gap"], cold_gap) <= 1e-10
    p = generator.stationary().probabilities
    assert step.result["residual"] == pytest.approx(float(np.max(np.abs(generator.matrix @ p))),
                                                    rel=1e-12)


def test_newton_start_predicted_from_the_drift_or_left_alone():
    """The third point of a path starts Newton from the linear predictor of the last two
    (the drift a Newton point hands on), within 1e-10 of the cold gap; a drift that points
    away from the mode (a random vector as large as the mode) is not used: Newton takes the
    path of the plain start (two products more, for the comparison)."""
    m = get_model("asep")
    steps = [m.solve_warm(m.resolve({"drive": DRIVES[0], **ASEP}), None)]
    for d in DRIVES[1:3]:
        steps.append(m.solve_warm(m.resolve({"drive": d, **ASEP}), steps[-1].state))
    assert steps[0].state.drift == () and len(steps[1].state.drift) == 2
    generator = exact_generator(12, rates_from_params(m.resolve({"drive": DRIVES[2], **ASEP})))
    cold_gap = generator.spectral_gap().gap
    assert steps[2].state.method == "newton"
    assert relative(steps[2].result["gap"], cold_gap) <= 1e-10
    mode = steps[1].state.modes[0][1]
    noise = np.random.default_rng(1).normal(size=mode.shape) * np.linalg.norm(mode)
    plain = generator.track_gap(steps[1].state.modes)
    tracked = generator.track_gap(steps[1].state.modes, (0.0, noise / np.sqrt(mode.size)))
    assert not isinstance(tracked, str)
    assert relative(tracked.gap, cold_gap) <= 1e-10
    assert tracked.products == plain.products + 2  # the same Newton path, plus the check


def test_a_far_neighbour_is_refused_logged_and_solved_cold():
    """Modes handed over from a distant point (drive 0.2 → 8, a different phase of the
    relaxation spectrum) are refused; the point is solved cold and the log says so."""
    lines = []
    results = solve_path("asep", [{"drive": 0.2, **ASEP}, {"drive": 8.0, **ASEP}],
                         log=lambda fmt, *args: lines.append(fmt % args))
    cold = evaluate("asep", drive=8.0, **ASEP)
    assert any("point 1: warm start refused" in line for line in lines), lines
    assert relative(results[1]["gap"], cold["gap"]) <= 1e-10
    assert relative(results[1]["current"], cold["current"]) <= 1e-12


def test_a_model_without_warm_starts_is_solved_point_by_point():
    points = [{"drive": d, "temperature": 1.0} for d in (0.0, 0.5, 1.0)]
    results = solve_path("climate", points)
    for params, result in zip(points, results, strict=True):
        expected = evaluate("climate", **params)
        for name in ("current", "gap"):
            assert result[name] == expected[name] or (
                math.isnan(result[name]) and math.isnan(expected[name]))


# Kerr at 40 Fock levels (Δ = 3, U0 = 1, κ = 1, T = 0). Up to F0 = 0.75 the slowest mode
# is the oscillating pair −0.51 ± 2.9i at the edge of the 8 eigenvalues closest to 0 (there
# the warm start is declined: the cold Arnoldi iteration is cheaper); from 0.75 on it is the
# real mode nearest 0 (−0.53, then −0.47, −0.41, …), which the path continues: the slowest
# mode changes identity inside the path. The cold reference is ARPACK's Arnoldi on each
# point alone; the warm points continue the modes by block Rayleigh–Ritz
# (slow_modes.track_gap), a different algorithm.
KERR_DRIVES = [0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0]


def test_kerr_path_continues_the_gap_and_agrees_with_cold_points():
    """Gap, frequency and photon number equal the cold points' to 1e-10 across the change
    of slowest mode; the points after it continue the previous modes in a few solve calls
    (instead of ~50 Arnoldi solves), those at the edge say why they are solved by Arnoldi
    instead; the residual is each point's own."""
    m = get_model("kerr")
    points = [{"drive": d, "fock_cutoff": 40} for d in KERR_DRIVES]
    state, orderings, refused = None, None, []
    for k, params in enumerate(points):
        step = m.solve_warm(m.resolve(params), state)
        cold = evaluate("kerr", **params)
        assert step.result["status"] == "ok"
        if k:
            assert step.state[0] is orderings and len(orderings) == 1  # METIS reused
        refused.append(step.refused)
        orderings, state = step.state[0], step.state
        for name in ("gap", "photon_number", "current"):
            assert relative(step.result[name], cold[name]) <= 1e-10, (k, name)
        assert step.result["gap_imag"] == pytest.approx(cold["gap_imag"], rel=1e-10, abs=1e-10)
        assert step.result["residual"] == cold["residual"]  # the same steady-state solve
        if k > 3:
            assert step.refused == "" and 0 < step.work < 15, k
    assert all("at its edge" in r for r in refused[1:3]) and refused[3:] == [""] * 5, refused
    assert [r["gap_imag"] > 1 for r in solve_path("kerr", points)] == [True] * 2 + [False] * 6


def test_kerr_slowest_mode_crossing_inside_the_tracked_set():
    """F0 = 2.60 … 2.75: the real slowest mode (−0.50, −0.55, −0.59) falls below the
    oscillating pair −0.61 ± 3.2i, which becomes the slowest at 2.75. The continuation from
    2.70 (real slowest, inside the set) sees the crossing: gap and frequency are the cold
    ones, from the pair."""
    m = get_model("kerr")
    state = None
    for drive in (2.6, 2.65, 2.7, 2.75):
        params = {"drive": drive, "fock_cutoff": 40}
        step = m.solve_warm(m.resolve(params), state)
        state = step.state
    cold = evaluate("kerr", **params)
    assert step.refused == "" and step.result["status"] == "ok"
    assert cold["gap_imag"] > 3  # the pair is the slowest at 2.75
    assert relative(step.result["gap"], cold["gap"]) <= 1e-10
    assert relative(step.result["gap_imag"], cold["gap_imag"]) <= 1e-10


@pytest.mark.parametrize("modes", [2, 4])
def test_kerr_path_with_few_modes_continues_the_gap(modes):
    """With 2 or 4 modes in the set (tracked with at least 8 + 4 Ritz pairs), the points
    after the first continue the modes and give the cold gap to 1e-10. (A nearly dependent
    expansion block once lost orthogonality to the basis here.)"""
    m = get_model("kerr")
    state = None
    for k, drive in enumerate((1.0, 1.05, 1.1, 1.15)):
        params = {"drive": drive, "fock_cutoff": 40, "gap_modes": modes}
        step = m.solve_warm(m.resolve(params), state)
        state = step.state
        cold = evaluate("kerr", **params)
        assert relative(step.result["gap"], cold["gap"]) <= 1e-10, k
        if k:
            assert step.refused == "" and 0 < step.work < 20, (k, step.refused)


def test_kerr_big_drive_jump_is_refused_or_still_the_cold_gap():
    """F0 = 1.0 → 2.6: the slow modes of the first point are far from the second's; the
    warm start is refused (and the point solved cold) or gives the cold gap."""
    points = [{"drive": d, "fock_cutoff": 40} for d in (1.0, 2.6)]
    m = get_model("kerr")
    first = m.solve_warm(m.resolve(points[0]), None)
    step = m.solve_warm(m.resolve(points[1]), first.state)
    cold = evaluate("kerr", **points[1])
    assert step.result["status"] == "ok"
    assert relative(step.result["gap"], cold["gap"]) <= 1e-10
    assert step.refused or 0 < step.work < 20


def test_kerr_tracked_gap_matches_dense_eigenvalues():
    """14 Fock levels (196 matrix elements): the gap continued from F0 = 1.0 to 1.02 is
    −Re of the slowest of the 8 nonzero eigenvalues of smallest modulus of the dense
    Liouvillian (LAPACK), and so is its frequency. The other members are the same
    eigenvalues, refined only until they rank (here to better than 1 %)."""
    from ness_core.models.kerr import kerr_liouvillian, kerr_operators
    from ness_core.solvers.lindblad_spectrum import spectral_gap
    from ness_core.solvers.lindblad_steady_state import steady_state
    from ness_core.solvers.slow_modes import track_gap

    m = get_model("kerr")

    def block(drive):
        params = m.resolve({"drive": drive, "fock_cutoff": 14})
        liou = kerr_liouvillian(*kerr_operators(params, 14)[:2])
        return liou, steady_state(liou, method="direct")

    liou, state = block(1.0)
    previous = spectral_gap(liou, steady=state, method="arnoldi", keep_vector=True).modes
    liou, state = block(1.02)
    gap, refused = track_gap(liou, state, 8, previous)
    assert refused == "" and gap.method == "tracked"
    lam = np.linalg.eigvals(liou.real_matrix.toarray())
    lam = lam[np.argsort(np.abs(lam))][1:9]  # without the steady state's 0
    slowest = lam[np.argmax(lam.real)]
    assert gap.gap == pytest.approx(-slowest.real, rel=1e-10)
    assert gap.imag == pytest.approx(abs(slowest.imag), abs=1e-10)
    # The 8th place can split a conjugate pair of equal modulus, and which member LAPACK or
    # the tracking returns is rounding: compare the upper half-plane images.
    def folded(values):
        return np.sort_complex(values.real + 1j * np.abs(values.imag))

    np.testing.assert_allclose(folded(gap.modes.eigenvalues[:8]), folded(lam), rtol=1e-2)


# XXZ: from L = 9 the steady-state block is solved by GMRES (xxz.DIRECT_MAX_ELEMENTS). With
# the limit set to 0 the L = 6 block (924 elements) takes the same GMRES path in ~0.07 s;
# the references are the unpatched SuperLU solves of the same points.
XXZ = {"L": 6, "gap_sectors": "none"}
XXZ_DRIVES = [0.3, 0.32, 0.34, 0.36, 0.38, 0.4, 0.42, 0.44, 0.46]


@pytest.fixture(scope="module")
def xxz_direct():
    return [evaluate("xxz", drive=d, **XXZ) for d in XXZ_DRIVES]


@pytest.fixture
def xxz_gmres(monkeypatch):
    import ness_core.models.xxz as xxz

    monkeypatch.setattr(xxz, "DIRECT_MAX_ELEMENTS", 0)
    return xxz


def test_xxz_gmres_path_does_not_depend_on_chunking(xxz_direct, xxz_gmres):
    """Chunk sizes 1, 7 and automatic: GMRES warm-started from the neighbour's steady state
    gives the SuperLU current to 1e-10 and a residual at the solver tolerance."""
    for size in (1, 7, None):
        spec = {"model": "xxz", "sweep": {"drive": XXZ_DRIVES}, "fixed": XXZ}
        if size is not None:
            spec["chunk_size"] = size
        study = configs.parse_study("xxz_warm", spec)
        chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=1)
        assert len(chunks) == {1: 9, 7: 2, None: 1}[size]
        ds = xr.concat([dataset.compute_chunk(c.manifest(study)) for c in chunks], dim="point")
        by_id = {str(p): k for k, p in enumerate(ds["point"].values)}
        rows = [by_id[p.id] for p in study.points()]
        assert list(ds["status"].values[rows]) == ["ok"] * len(XXZ_DRIVES)
        expected = [r["current"] for r in xxz_direct]
        assert np.all(relative(ds["current"].values[rows], expected) <= 1e-10), size
        assert np.all(ds["residual"].values[rows] <= 1e-11)


def test_xxz_gmres_starts_from_the_neighbour_and_stores_its_own_residual(xxz_gmres):
    """The second point starts from the first one's state, needs fewer GMRES iterations,
    and its stored residual is ‖L vec ρ‖ of its own Liouvillian block."""
    m = get_model("xxz")
    first = m.solve_warm(m.resolve({"drive": XXZ_DRIVES[0], **XXZ}), None)
    params = m.resolve({"drive": XXZ_DRIVES[1], **XXZ})
    step = m.solve_warm(params, first.state)
    assert step.refused == "" and 0 < step.work < first.work
    hamiltonian, baths = xxz_gmres.xxz_operators(params)
    block = xxz_gmres.xxz_blocks(hamiltonian, [j for b in baths for j in b], 6, "none")[0]
    assert xxz_gmres.block_solver(block) == "krylov"
    assert step.result["residual"] == pytest.approx(
        float(np.linalg.norm(block.matrix @ step.state)), rel=1e-12)


def test_xxz_reversed_bias_start_is_refused_and_solved_cold(xxz_gmres):
    """μ = 0.9 → −0.9 at Γ = 3: the neighbour's state is a worse guess than zero (the bias
    is reversed), so it is refused, the log says so, and the point is the cold one."""
    points = [{"drive": d, "coupling": 3.0, **XXZ} for d in (0.9, -0.9)]
    lines = []
    results = solve_path("xxz", points, log=lambda fmt, *args: lines.append(fmt % args))
    assert any("point 1: warm start refused (start residual" in line for line in lines), lines
    cold = evaluate("xxz", **points[1])
    assert results[1]["current"] == cold["current"]
    # the exact symmetry μ → −μ (reflection of the chain) reverses the current
    assert relative(results[1]["current"], -results[0]["current"]) <= 1e-10


# Schlögl network dx/dt = 6a x² − x³ − 11x + 6 (tests/test_networks.py), swept down from
# a = 1.5 by continuation: bistable for 0.99 < a < 1.036, the upper branch followed until
# its fold near a = 0.99; below only the lower root remains. So the state is the largest
# real root of the cubic at every a here.
SCHLOGL_A = [0.98, 0.99, 1.0, 1.01, 1.02, 1.03, 1.04, 1.06, 1.1]


def schlogl_study(chunk_size=None):
    from test_networks import schlogl_block

    spec = {"model": "network", "sweep": {"a": SCHLOGL_A}, "network": schlogl_block(
        continuation={"parameter": "a", "start": 1.5, "steps": 10})}
    if chunk_size is not None:
        spec["chunk_size"] = chunk_size
    return configs.parse_study("schlogl_warm", spec)


def test_network_continuation_resumes_along_the_path_and_does_not_depend_on_chunking():
    from test_networks import schlogl_roots

    study = schlogl_study()
    cold = [evaluate(study.model, **p.params) for p in study.points()]
    for size in (1, 7, None):
        study = schlogl_study(size)
        chunks = sweep.plan_chunks(study, study.points(), {}, set(), cores=1)
        assert len(chunks) == {1: 9, 7: 2, None: 1}[size]
        ds = xr.concat([dataset.compute_chunk(c.manifest(study)) for c in chunks], dim="point")
        by_id = {str(p): k for k, p in enumerate(ds["point"].values)}
        rows = [by_id[p.id] for p in study.points()]
        for name in ("current", "gap"):
            assert np.all(relative(ds[name].values[rows], [r[name] for r in cold]) <= 1e-10)
        largest = [max(schlogl_roots(a)) for a in SCHLOGL_A]
        assert np.all(relative(ds["concentration_X"].values[rows], largest) <= 1e-10), size
        # the residual is max |dc/dt| of the reported state: the cubic at that root
        x = ds["concentration_X"].values[rows]
        a = np.array(SCHLOGL_A)
        np.testing.assert_allclose(ds["residual"].values[rows],
                                   np.abs(6 * a * x**2 - x**3 - 11 * x + 6), atol=1e-12)


def test_network_continuation_from_the_neighbour_takes_one_step():
    """The second point resumes from the first one's sweep (one Newton step of 0.01 instead
    of the walk from a = 1.5); a change of another parameter is refused and logged."""
    study = schlogl_study()
    m = get_model(study.model)
    first = m.solve_warm(m.resolve({"a": 1.0}), None)
    second = m.solve_warm(m.resolve({"a": 1.01}), first.state)
    assert second.refused == "" and second.work == 1 < first.work
    lines = []
    results = solve_path(study.model, [{"a": 1.0}, {"a": 1.01, "volume": 50.0}],
                         log=lambda fmt, *args: lines.append(fmt % args))
    assert any("point 1: warm start refused (other parameters than a changed)" in line
               for line in lines), lines
    assert results[1]["current"] == evaluate(study.model, a=1.01, volume=50.0)["current"]
