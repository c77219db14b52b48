"""Warm starts along a chunk (issue 20, section 1): the same points cold and as one path.

Usage: ``python benchmarks/warm_start.py [asep|kerr|xxz9|xxz10|schlogl ...] [--repeat N]``
(default all cases, N = 1), under ``flock /tmp/bench.lock`` (each case takes up to ~1 min
per repeat on a loaded 2-core machine), with ``OPENBLAS_NUM_THREADS=1``. For each case the
points are solved cold, one by one (``evaluate``), then as one path
(``ness_core.warm.solve_path``, what a chunk job does), in one process, side by side, N
times alternately, and the fastest cold and warm runs are compared; printed: both wall
times, CPU times and their ratios, the solver work per point (cold vs warm: ASEP Krylov
iterations + gap products, Kerr shift-invert solve calls, XXZ GMRES iterations of the
steady state, network Newton solves of the continuation; for Kerr also the solved columns,
a block of columns being one call), the warm starts refused, and the largest relative
differences of current and gap.

* asep: 12 neighbouring points, L = 16 exact (2^16 states), rho_left = 0.6,
  rho_right = 0.3, drive 1.00, 1.05, …, 1.55.
* kerr: 50 points of a drive sweep F0 = 0.5 … 3.0 at fock_cutoff = 120 (defaults otherwise:
  Δ = 3, U0 = 1, κ = 1, N = 1, T = 0).
* xxz9, xxz10: drive steps of 0.02 from μ = 0.30 (10 points at L = 9, 4 at L = 10;
  Δ_z = 0.5, Γ = 1, gap_sectors = none), the steady-state block solved by GMRES.
* schlogl: the Schlögl network (dx/dt = 6a x² − x³ − 11x + 6), 41 points a = 0.90 … 1.30,
  each continued from a = 1.5 in 20 steps (the upper branch of the hysteresis loop).
"""

from __future__ import annotations

import sys
import time

import numpy as np

SCHLOGL = {"parameters": {"a": 1.0}, "species": {"X": {"initial": 1.0}},
           "chemostats": {"A": {"concentration": "a"}, "B": {"concentration": 1.0}},
           "reactions": {"auto": {"equation": "2 X + A <-> 3 X", "rate": 6.0, "backward": 1.0},
                         "exchange": {"equation": "X <-> B", "rate": 11.0, "backward": 6.0}},
           "current": "exchange", "continuation": {"parameter": "a", "start": 1.5,
                                                   "steps": 20}}


def schlogl() -> tuple[str, list[dict]]:
    """The Schlögl network swept down from a = 1.5 (its model is built from the study)."""
    from ness_core import configs

    study = configs.parse_study("schlogl", {"model": "network", "network": SCHLOGL,
                                            "sweep": {"a": [float(a) for a in
                                                            np.linspace(0.9, 1.3, 41)]}})
    return study.model, [p.params for p in study.points()]


CASES = {
    "asep": lambda: ("asep", [{"L": 16, "rho_left": 0.6, "rho_right": 0.3,
                               "drive": 1.0 + 0.05 * k} for k in range(12)]),
    "kerr": lambda: ("kerr", [{"drive": float(d), "fock_cutoff": 120}
                              for d in np.linspace(0.5, 3.0, 50)]),
    "xxz9": lambda: ("xxz", [{"L": 9, "drive": 0.3 + 0.02 * k, "gap_sectors": "none"}
                             for k in range(10)]),
    "xxz10": lambda: ("xxz", [{"L": 10, "drive": 0.3 + 0.02 * k, "gap_sectors": "none"}
                              for k in range(4)]),
    "schlogl": schlogl,
}


def run(case: str, repeat: int = 1) -> None:
    from ness_core.api import evaluate
    from ness_core.models import get_model
    from ness_core.warm import solve_path

    name, points = CASES[case]()
    model = get_model(name)
    work: list[int] = []
    solve_warm = model.solve_warm

    def recorded(params, state):
        step = solve_warm(params, state)
        work.append(step.work)
        return step

    model.solve_warm = recorded  # count the solver work of both runs
    columns = _count_kerr_columns() if name == "kerr" else []
    evaluate(name, **points[0])  # warm-up: imports, caches
    refused: list[str] = []

    def log(fmt, *args):
        refused.append(fmt % args)

    cold_s = cold_cpu = warm_s = warm_cpu = np.inf
    for _ in range(repeat):  # cold and warm alternately; the fastest of each is kept
        work.clear()
        columns.clear()
        start, cpu = time.perf_counter(), time.process_time()
        cold = [evaluate(name, **p) for p in points]
        cold_s = min(cold_s, time.perf_counter() - start)
        cold_cpu = min(cold_cpu, time.process_time() - cpu)
        cold_work, cold_columns = list(work), list(columns)
        work.clear()
        columns.clear()
        refused.clear()
        start, cpu = time.perf_counter(), time.process_time()
        warm = solve_path(name, points, log=log)
        warm_s = min(warm_s, time.perf_counter() - start)
        warm_cpu = min(warm_cpu, time.process_time() - cpu)
    del model.solve_warm
    diff = {q: max(abs(w[q] - c[q]) / abs(c[q]) for w, c in zip(warm, cold, strict=True))
            for q in ("current", "gap")}
    n = len(points)
    print(f"{case}: {n} points, cold {cold_s:.2f} s ({cold_s / n:.3f} s/point), "
          f"warm path {warm_s:.2f} s ({warm_s / n:.3f} s/point), ratio {cold_s / warm_s:.2f}x; "
          f"CPU {cold_cpu:.2f} / {warm_cpu:.2f} s, ratio {cold_cpu / warm_cpu:.2f}x")
    print(f"  work per point: cold mean {np.mean(cold_work):.0f}, warm mean "
          f"{np.mean(work):.0f} (first point cold: {work[0]}, others mean "
          f"{np.mean(work[1:]):.0f})")
    if columns:
        print(f"  solved columns per point: cold mean {np.mean(cold_columns):.0f}, warm mean "
              f"{np.mean(columns):.0f} (min {min(columns)}, max {max(columns)}; gaps solved: "
              f"{len(columns)} for {n} points)")
    print(f"  statuses not ok: cold {sum(r['status'] != 'ok' for r in cold)}, warm "
          f"{sum(r['status'] != 'ok' for r in warm)}; max relative difference current "
          f"{diff['current']:.1e}, gap {diff['gap']:.1e}; log lines: {len(refused)}")
    for line in refused:
        print("   ", line)


def _count_kerr_columns() -> list[int]:
    """Record the shift-invert columns of every Kerr gap (tracked, or cold Arnoldi)."""
    from ness_core.models import kerr

    columns: list[int] = []
    track, cold = kerr.track_gap, kerr.spectral_gap

    def tracked(*args):
        gap, refused = track(*args)
        if gap is not None:
            columns.append(gap.products)
        return gap, refused

    def arnoldi(*args, **kwargs):
        gap = cold(*args, **kwargs)
        columns.append(gap.products)
        return gap

    kerr.track_gap, kerr.spectral_gap = tracked, arnoldi
    return columns


if __name__ == "__main__":
    args = sys.argv[1:]
    repeat = 1
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat, args = int(args[at + 1]), args[:at] + args[at + 2:]
    for case in args or list(CASES):
        run(case, repeat)
