"""The boundary target in a plane (ness_core.refinement2d) against boundaries known exactly:
a jump across a circle, and the same samples in any order."""

import math

import numpy as np
import pytest

from ness_core import refinement2d

GRID = np.linspace(-1.0, 1.0, 9)  # the coarse grid along both axes: range 2, spacing 0.25
CENTRE, RADIUS = (0.1, -0.05), 0.6


def disc(x, y):
    """1 inside the circle, 0 outside: the boundary is the circle."""
    return float(math.hypot(x - CENTRE[0], y - CENTRE[1]) < RADIUS)


def distance_to_circle(points):
    p = np.asarray(points, dtype=float)
    return np.abs(np.hypot(p[:, 0] - CENTRE[0], p[:, 1] - CENTRE[1]) - RADIUS)


@pytest.mark.parametrize("tol", [0.05, 0.02])
def test_jump_across_a_circle_is_located_to_the_tolerance(tol):
    status, points, rounds = refinement2d.refine_function(disc, GRID, GRID, tol, 2000)
    assert status.converged and status.loss <= tol and status.points == len(points) <= 2000
    assert status.level == 0.5 and rounds >= 1
    # converged: every triangle the circle crosses (variation 1 = the range) has a longest
    # edge <= tol in units of the axes' range 2; a boundary point lies on such an edge, whose
    # ends are on either side of the circle, so it is within 2 tol of the circle
    d = distance_to_circle(status.boundary)
    assert d.max() <= 2.0 * tol
    # the boundary is found all round: the crossing points of one triangle lie in it, at most
    # its longest edge (2 tol) apart, and at least R - d from the centre, so the contour's
    # segments, which wind once round the centre, each subtend <= 2 asin(tol / (R - d))
    b = np.asarray(status.boundary)
    angles = np.sort(np.arctan2(b[:, 1] - CENTRE[1], b[:, 0] - CENTRE[0]))
    gaps = np.diff(np.concatenate([angles, angles[:1] + 2 * math.pi]))
    assert gaps.max() <= 2 * math.asin(tol / (RADIUS - d.max()))

def test_refined_points_cluster_at_the_circle():
    tol = 0.02
    status, points, _ = refinement2d.refine_function(disc, GRID, GRID, tol, 2000)
    refined = distance_to_circle(points[len(GRID) ** 2:])
    # every refined point is the midpoint of an edge of a triangle the circle crosses, no
    # larger than a coarse cell's diagonal
    assert refined.max() <= math.hypot(0.25, 0.25)
    # a band of half-width 2 tol around the circle covers 2 (2 tol) 2 pi r / 4 of the square
    # (7.5 %); the refinement puts most of its points there
    band = 2.0 * tol
    uniform_share = 2 * band * 2 * math.pi * RADIUS / 4.0
    share = float(np.mean(refined <= band))
    assert share >= 0.5 >= 6 * uniform_share


def test_a_flat_function_needs_no_point_and_a_budget_is_never_exceeded():
    status, points, rounds = refinement2d.refine_function(lambda x, y: 3.0, GRID, GRID, 1e-3,
                                                          200)
    assert status.converged and rounds == 0 and len(points) == 81 and status.loss == 0.0
    status, points, _ = refinement2d.refine_function(disc, GRID, GRID, 1e-3, 150)
    assert not status.converged and len(points) == 150 == status.points


def test_proposals_do_not_depend_on_the_order_of_the_samples():
    # the pipeline reads chunks in any order; a rerun must propose the same points
    status, points, _ = refinement2d.refine_function(disc, GRID, GRID, 0.02, 300)
    x, y = np.array(points).T
    f = np.array([disc(a, b) for a, b in points])
    order = np.random.default_rng(7).permutation(len(points))
    first = refinement2d.propose(x, y, f, 0.02, 64)
    again = refinement2d.propose(x[order], y[order], f[order], 0.02, 64)
    assert first == again and len(first[1]) == 64


def test_failed_points_are_ignored_and_degenerate_samples_propose_nothing():
    x, y = np.meshgrid(GRID, GRID)
    f = np.where(np.hypot(x - CENTRE[0], y - CENTRE[1]) < RADIUS, 1.0, 0.0)
    with_nan = f.copy()
    with_nan[0, 0] = np.nan
    status, proposals = refinement2d.propose(x.ravel(), y.ravel(), with_nan.ravel(), 0.02, 64)
    assert status.points == 80 and proposals
    status, proposals = refinement2d.propose([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], [0, 1, 0], 0.1, 9)
    assert not status.converged and not proposals  # three points on a line span no area
    with pytest.raises(ValueError, match="tolerance"):
        refinement2d.propose(x.ravel(), y.ravel(), f.ravel(), 0.0, 9)
