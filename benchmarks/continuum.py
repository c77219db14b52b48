"""Benchmark of the continuum solver: corrosion polarisation curve, plasma S-curve.

Run by hand: ``python benchmarks/continuum.py [cells]`` (default 1000). Reports the wall time
of a 200-point corrosion polarisation curve (``evaluate`` per point on grids ``cells``/4,
``cells``/2 and ``cells``); of one pseudo-arclength continuation through both plasma folds
(hot end → cold end) at ``cells`` grid cells, with the number of points traced; the time per
point of a 200-point ``evaluate`` sweep along the plasma upper branch (S-curve cached per
process, grid refinement from ``cells``/4 to ``cells``); and the fitted exponent of the gap
against the distance to the collapse fold. Target (issue 8): each 200-point curve in seconds
at 10³ cells on 2 cores.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def main(cells: int) -> None:
    """Print the three measurements for a grid of ``cells`` cells."""
    from ness_core import evaluate
    from ness_core.models import get_model
    from ness_core.models.plasma import _key, traced_branch

    start = time.perf_counter()
    for e in np.linspace(-0.5, 0.3, 200):
        out = evaluate("corrosion", drive=float(e), cells=cells // 4, max_cells=cells)
        assert out["status"] == "ok", out["status"]
    polar = time.perf_counter() - start
    print(f"200-point polarisation curve (cells {cells // 4}..{cells}): {polar:.2f} s, "
          f"{1e3 * polar / 200:.1f} ms per point")
    params = get_model("plasma").resolve({})
    start = time.perf_counter()
    branch, _, _ = traced_branch(cells, _key(params))
    trace = time.perf_counter() - start
    print(f"continuation at {cells} cells: {trace:.2f} s, {len(branch.parameters)} points, "
          f"folds at {[round(f.parameter, 6) for f in branch.folds]}, status {branch.status}")
    drives = np.linspace(51.0, 90.0, 200)
    start = time.perf_counter()
    for p in drives:
        evaluate("plasma", drive=float(p), cells=cells // 4, max_cells=cells)
    sweep = time.perf_counter() - start
    print(f"200-point evaluate sweep (cells {cells // 4}..{cells}): {sweep:.2f} s, "
          f"{1e3 * sweep / 200:.1f} ms per point")
    d = np.logspace(-6, -2, 9)
    gaps = [evaluate("plasma", fold_distance=float(x), cells=cells // 4,
                     max_cells=cells)["gap"] for x in d]
    print(f"gap exponent at the collapse fold: {np.polyfit(np.log(d), np.log(gaps), 1)[0]:.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
