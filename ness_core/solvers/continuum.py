"""Steady states of 1-D nonlinear diffusion problems: finite volumes, Newton, continuation.

Two problem classes, both discretised by vertex-centred finite volumes and solved by the same
Newton, gap and refinement code (:class:`SteadyProblem` is what they share):

* :class:`DiffusionProblem`, one field with a nonlinear diffusivity and a source (plasma,
  corrosion with excess supporting electrolyte);
* :class:`ness_core.solvers.nernst_planck.NernstPlanckProblem`, ions with electroneutrality
  and the potential solved together with the concentrations (corrosion with migration).

DiffusionProblem (binding for every model built on it). On x ∈ [0, L] (a slab, or the
radius of a cylinder) the field u(x, t) obeys the conservation law

    c(x) ∂u/∂t = (1/x^g) ∂/∂x [ x^g ∂φ(u)/∂x ] + s(u, x; λ),      g = 0 (slab), 1 (cylinder),

with φ the Kirchhoff potential of a u-dependent diffusivity D(u) = φ'(u) (so the flux is
q = −∂φ/∂x), s a local source per unit volume, a prescribed inward flux f(u(0); λ) at x = 0
(zero on the axis of a cylinder) and a Dirichlet value u(L) = u_L. λ is the continuation
parameter (the model's drive).

Discretisation: vertex-centred finite volumes on a grid of ``cells`` intervals, nodes x_i
(i = 0 … cells; uniform x_i = i h, or a smooth map of a uniform grid; node ``cells`` is the
Dirichlet node and not an unknown), control volumes between the face midpoints
m_i = (x_i + x_{i+1})/2, weighted by 2x in a cylinder (so that Σ V_i = L² is the area
fraction of the unit disk for L = 1) and by 1 in a slab; face fluxes
a_{i+1/2} (φ_i − φ_{i+1})/h_i, h_i = x_{i+1} − x_i. Second order in h for smooth solutions
(on a smoothly mapped grid, in the spacing of the uniform variable); exact for linear
φ-profiles.
The discrete system F(u; λ) = 0 is solved by damped Newton with the sparse (tridiagonal)
analytic Jacobian J = A diag(φ'(u)) + diag(V s_u) and LAPACK's banded LU.

Why finite volumes + Newton and not ``scipy.integrate.solve_bvp``: measured side by side on the
same plasma and corrosion problems (``benchmarks/continuum.py bvp``, table in
``benchmarks/README.md``), both take milliseconds per solve at the accuracies the studies ask
for (1e-4 to 1e-7 relative), within a factor 2–6 either way (finite volumes faster on the
plasma, collocation on the corrosion layer); collocation (fourth order, adaptive mesh) wins
beyond 1e-8, but fails on the radiating plasma in its natural temperature form (the steep
layer off the cold wall exhausts 10⁵ mesh nodes) and needs problem-specific reformulations
(Kirchhoff potential; ions reduced by their steady Boltzmann distributions). The finite
volumes give what solve_bvp cannot: the sparse Jacobian and mass matrix of the linearised
dynamics (the gap, including the electroneutral ion transport) and the bordered systems of
pseudo-arclength continuation through folds, from one discretisation with a measured order.

Linear stability: the slowest relaxation rate of the linearised dynamics M δu̇ = J δu with
M = diag(c_i V_i) is gap = −max Re λ_k of the sparse generalised eigenproblem J v = λ M v
(ARPACK shift-invert at 0; dense for small grids; zero rows of M, algebraic equations, are
allowed). gap < 0 flags an unstable steady state. Where Newton from the first guess fails far
from equilibrium, :func:`newton_path` steps λ from a known solution (no folds assumed).

Continuation: pseudo-arclength (Keller 1977) in scaled variables with an adaptive step; a fold
(turning point, dλ/ds = 0) is bracketed by the sign change of the tangent's λ component and
located as the extremum of λ along the branch parameterised by the node that moves most
(Brent's bounded minimisation, each evaluation a bordered Newton solve). Grid refinement:
successive doubling with Richardson's estimate of the observed order p = log2(e_1/e_2).

References: R. Eymard, T. Gallouët & R. Herbin, *Finite Volume Methods* (2000); H. B. Keller,
in *Applications of Bifurcation Theory* (1977), pp. 359–384; Yu. A. Kuznetsov, *Elements of
Applied Bifurcation Theory*, 3rd ed. (2004), Ch. 10 (continuation, folds).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.interpolate
import scipy.linalg
import scipy.optimize
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ness_core.errors import ParameterError

GEOMETRIES = ("slab", "cylinder")
# Largest number of unknowns whose spectrum is computed densely by spectral_gap.
DENSE_MAX_UNKNOWNS = 64
# Widest band (lower + upper diagonals) solved by the banded LU in _sparse_solve.
BANDED_MAX_WIDTH = 16
# Scaled residual at which newton accepts a state whose full steps stopped shrinking.
ROUND_OFF_RESIDUAL = 1e-10
ElementFunction = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
SourceFunction = Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray, np.ndarray]]
FluxFunction = Callable[[float, float], tuple[float, float, float]]


@dataclass(frozen=True)
class Grid:
    """Vertex-centred grid on [0, length]: uniform, or any increasing nodes (e.g. clustered
    where the solution is steep).

    Attributes
    ----------
    nodes : ndarray, shape (cells + 1,)
        Node positions x_0 = 0 < x_1 < … < x_cells = length (x_i = i h if uniform); the last
        node carries the Dirichlet value.
    volumes : ndarray, shape (cells + 1,)
        Control volumes [m_{i−1}, m_i] between the face midpoints m_i = (x_i + x_{i+1})/2
        (length in a slab; ∫ 2x dx over the volume in a cylinder).
    faces : ndarray, shape (cells,)
        Face areas between nodes i and i + 1 (1 in a slab, 2 m_i in a cylinder).
    spacing : ndarray, shape (cells,)
        Node distances h_i = x_{i+1} − x_i (all equal on a uniform grid).
    geometry : {"slab", "cylinder"}
    """

    nodes: np.ndarray
    volumes: np.ndarray
    faces: np.ndarray
    spacing: np.ndarray
    geometry: str

    @classmethod
    def uniform(cls, length: float, cells: int, geometry: str = "slab") -> Grid:
        """Grid of ``cells`` equal intervals on [0, ``length``]."""
        if geometry not in GEOMETRIES:
            raise ValueError(f"unknown geometry {geometry!r}; valid: {', '.join(GEOMETRIES)}")
        if cells < 2:
            raise ValueError(f"need at least 2 cells, got {cells}")
        h = length / cells  # one spacing: a uniform state then has exactly zero fluxes
        x = np.linspace(0.0, length, cells + 1)
        lo = np.clip(x - h / 2, 0.0, length)
        hi = np.clip(x + h / 2, 0.0, length)
        mid = x[:-1] + h / 2
        if geometry == "slab":
            return cls(x, hi - lo, np.ones(cells), np.full(cells, h), geometry)
        return cls(x, hi**2 - lo**2, 2 * mid, np.full(cells, h), geometry)

    @classmethod
    def from_nodes(cls, nodes: np.ndarray, geometry: str = "slab") -> Grid:
        """Grid on the given increasing ``nodes`` (first 0, last the length). A smooth map
        x = g(s) of a uniform s-grid keeps the scheme second order in the s-spacing."""
        if geometry not in GEOMETRIES:
            raise ValueError(f"unknown geometry {geometry!r}; valid: {', '.join(GEOMETRIES)}")
        x = np.asarray(nodes, dtype=float)
        if x.size < 3 or x[0] != 0.0 or np.any(np.diff(x) <= 0):
            raise ValueError("need at least 2 cells on increasing nodes starting at 0")
        mid = (x[:-1] + x[1:]) / 2
        lo, hi = np.r_[0.0, mid], np.r_[mid, x[-1]]
        if geometry == "slab":
            return cls(x, hi - lo, np.ones(x.size - 1), np.diff(x), geometry)
        return cls(x, hi**2 - lo**2, 2 * mid, np.diff(x), geometry)

    def integrate(self, values: np.ndarray) -> float:
        """Σ_i V_i values_i over all nodes (midpoint-rule volume integral, O(h²))."""
        return float(np.dot(self.volumes, values))

    def sample(self, values: np.ndarray, points: int) -> np.ndarray:
        """Node values at the fixed positions x_k = k·length/(points − 1), k = 0 … points − 1.

        The node values themselves where every position is a node (``cells`` a multiple of
        ``points`` − 1), else a not-a-knot cubic spline through the nodes (O(h⁴), below the
        O(h²) error of the scheme). Profiles of every grid of a refinement then share one
        coordinate.
        """
        cells = len(self.nodes) - 1
        targets = np.linspace(0.0, float(self.nodes[-1]), points)
        if cells % (points - 1) == 0:
            every = cells // (points - 1)
            if np.allclose(self.nodes[::every], targets, rtol=0.0, atol=1e-14 * targets[-1]):
                return np.array(values[::every], dtype=float)
        return scipy.interpolate.CubicSpline(self.nodes, values)(targets)


@dataclass(frozen=True)
class DiffusionProblem:
    """F(u; λ) = A φ(u) + b + V s(u; λ) + e_0 f(u_0; λ) on the unknown nodes 0 … cells − 1.

    Parameters
    ----------
    grid : Grid
    potential : callable ``u -> (φ(u), φ'(u))``, elementwise
        Kirchhoff potential (flux q = −dφ/dx).
    source : callable ``(u, λ) -> (s, ∂s/∂u, ∂s/∂λ)``
        Source per unit volume at every node, shape (cells + 1,) for u of that shape.
    boundary_value : float
        Dirichlet value u_L at x = length.
    capacity : ndarray, shape (cells + 1,)
        c(x_i) of the time derivative (the mass matrix is diag(c V)).
    boundary_flux : callable ``(u_0, λ) -> (f, ∂f/∂u_0, ∂f/∂λ)`` or None
        Inward flux per unit area at x = 0 (slab only; None = no flux).
    """

    grid: Grid
    potential: ElementFunction
    source: SourceFunction
    boundary_value: float
    capacity: np.ndarray
    boundary_flux: FluxFunction | None = None
    _laplacian: sp.csc_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        a = self.grid.faces / self.grid.spacing
        n = len(a)
        full = sp.diags([np.r_[-a, 0.0] - np.r_[0.0, a], a, a], [0, 1, -1], shape=(n + 1, n + 1))
        object.__setattr__(self, "_laplacian", sp.csc_matrix(full)[:n, :])

    @property
    def unknowns(self) -> int:
        """Number of unknown nodes (cells)."""
        return self._laplacian.shape[0]

    def full(self, u: np.ndarray) -> np.ndarray:
        """Unknowns with the Dirichlet node appended, shape (cells + 1,)."""
        return np.append(u, self.boundary_value)

    def _parts(self, u: np.ndarray, lam: float):
        w = self.full(u)
        phi, dphi = self.potential(w)
        s, ds, ds_lam = self.source(w, lam)
        vol = self.grid.volumes[:-1]
        res = self._laplacian @ phi + vol * s[:-1]
        diag = vol * ds[:-1]
        d_lam = vol * ds_lam[:-1]
        if self.boundary_flux is not None:
            f, df, df_lam = self.boundary_flux(float(w[0]), lam)
            res[0] += f
            diag[0] += df
            d_lam[0] += df_lam
        return res, dphi, diag, d_lam

    def residual(self, u: np.ndarray, lam: float) -> np.ndarray:
        """F(u; λ), shape (cells,): net inflow of every control volume."""
        return self._parts(u, lam)[0]

    def linearise(self, u: np.ndarray, lam: float) -> tuple[np.ndarray, sp.csc_matrix, np.ndarray]:
        """(F, ∂F/∂u as sparse CSC, ∂F/∂λ) at (u, λ)."""
        res, dphi, diag, d_lam = self._parts(u, lam)
        n = self.unknowns
        jac = self._laplacian[:, :n] @ sp.diags(dphi[:n]) + sp.diags(diag)
        return res, sp.csc_matrix(jac), d_lam

    def mass(self) -> np.ndarray:
        """Diagonal of the mass matrix M = diag(c_i V_i), shape (cells,)."""
        return (self.capacity * self.grid.volumes)[:-1]

    def face_fluxes(self, u: np.ndarray) -> np.ndarray:
        """Total flux a (φ_i − φ_{i+1})/h through every face (positive towards x = L)."""
        phi = self.potential(self.full(u))[0]
        return self.grid.faces * (phi[:-1] - phi[1:]) / self.grid.spacing

    def face_dissipation(self, u: np.ndarray, force_potential: np.ndarray) -> float:
        """Σ_faces flux·(X_i − X_{i+1}): discrete ∫ q·(−∇X) dV for the conjugate potential X.

        With X = −1/T (heat) or X = ln c (particles, k_B = 1) this is the entropy produced
        by transport; it is ≥ 0 whenever X increases with φ.
        """
        return float(np.dot(self.face_fluxes(u), force_potential[:-1] - force_potential[1:]))

    def scaled_residual(self, u: np.ndarray, lam: float) -> float:
        """max |F| / (max |A φ(u)| + max |V s|): the residual relative to the terms it balances."""
        w = self.full(u)
        flux = np.abs(self._laplacian @ self.potential(w)[0])
        source = np.abs(self.grid.volumes[:-1] * self.source(w, lam)[0][:-1])
        scale = max(float(flux.max()), float(source.max()), 1e-300)
        return float(np.abs(self.residual(u, lam)).max() / scale)


class SteadyProblem(Protocol):
    """What :func:`newton` and :func:`spectral_gap` need of a discretised problem.

    The steady state solves F(u; λ) = 0; the linearised dynamics is M δu̇ = J δu with
    M = diag(``mass()``) (zero entries: algebraic equations).
    """

    @property
    def unknowns(self) -> int: ...

    def residual(self, u: np.ndarray, lam: float) -> np.ndarray: ...

    def linearise(self, u: np.ndarray,
                  lam: float) -> tuple[np.ndarray, sp.csc_matrix, np.ndarray]: ...

    def mass(self) -> np.ndarray: ...

    def scaled_residual(self, u: np.ndarray, lam: float) -> float: ...


@dataclass(frozen=True)
class SteadyState:
    """Result of a Newton solve.

    Attributes
    ----------
    u : ndarray, shape (cells,)
        Unknown node values (append the boundary value with ``DiffusionProblem.full``).
    parameter : float
        λ of the solution.
    residual : float
        max |F| / scale, scale = max |A φ(u)| + max |V s| (dimensionless).
    iterations : int
    status : str
        ``"ok"`` or the reason Newton stopped.
    """

    u: np.ndarray
    parameter: float
    residual: float
    iterations: int
    status: str


def _sparse_solve(matrix: sp.spmatrix, rhs: np.ndarray) -> np.ndarray:
    """Solve; NaNs (no warning) when the matrix is singular.

    Banded matrices (the Jacobians of every problem here: tridiagonal, or block-tridiagonal
    with interleaved unknowns) go to LAPACK's banded LU with partial pivoting, 4–10× faster
    than SuperLU at 10³–10⁴ unknowns; others (bordered continuation systems) to SuperLU.
    """
    coo = matrix.tocoo()
    offsets = coo.col - coo.row
    lower, upper = max(-int(offsets.min(initial=0)), 0), max(int(offsets.max(initial=0)), 0)
    if lower + upper <= BANDED_MAX_WIDTH:
        bands = np.zeros((lower + upper + 1, matrix.shape[1]))
        np.add.at(bands, (upper + coo.row - coo.col, coo.col), coo.data)
        try:
            return scipy.linalg.solve_banded((lower, upper), bands, rhs)
        except np.linalg.LinAlgError:
            return np.full(rhs.shape, math.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error", spla.MatrixRankWarning)
        try:
            return spla.spsolve(matrix, rhs)
        except spla.MatrixRankWarning:
            return np.full(rhs.shape, math.nan)


def newton(problem: SteadyProblem, u0: np.ndarray, lam: float, *, tol: float = 1e-11,
           max_iter: int = 50, lower: float | np.ndarray = -np.inf) -> SteadyState:
    """Solve F(u; λ) = 0 by damped Newton from ``u0``.

    Parameters
    ----------
    problem : SteadyProblem (DiffusionProblem, NernstPlanckProblem)
    u0 : ndarray, shape (problem.unknowns,)
        Initial guess.
    lam : float
        Parameter value.
    tol : float
        Stop when the relative Newton step max|δu| / max|u| is below ``tol``, or when full
        steps stop shrinking (round-off of an ill-conditioned system) with the scaled
        residual below ``ROUND_OFF_RESIDUAL``.
    max_iter : int
        Iteration limit; reaching it gives status ``"Newton not converged ..."``.
    lower : float or ndarray, shape (problem.unknowns,)
        Values of u must stay above ``lower`` (e.g. 0 for a temperature or a concentration;
        per unknown when an array); steps are halved until they do.
    """
    u = np.array(u0, dtype=float)
    previous = math.inf
    for it in range(1, max_iter + 1):
        try:
            res, jac, _ = problem.linearise(u, lam)
        except ArithmeticError as exc:  # e.g. exp overflow far from the solution
            return SteadyState(u, lam, math.nan, it, f"Newton diverged ({exc})")
        step = -_sparse_solve(jac, res)
        if not np.all(np.isfinite(step)):
            return SteadyState(u, lam, math.nan, it, "singular Jacobian")
        damping = 1.0
        while np.any(u + damping * step <= lower):
            damping /= 2
            if damping < 1e-6:
                return SteadyState(u, lam, math.nan, it, "Newton step leaves the domain")
        u = u + damping * step
        size = np.abs(step).max()
        if damping == 1.0 and size <= tol * max(np.abs(u).max(), 1e-300):
            return SteadyState(u, lam, problem.scaled_residual(u, lam), it, "ok")
        if damping == 1.0 and size > previous / 2:  # stagnating: accept at round-off only
            residual = problem.scaled_residual(u, lam)
            if residual <= ROUND_OFF_RESIDUAL:
                return SteadyState(u, lam, residual, it, "ok")
        previous = size if damping == 1.0 else math.inf
    return SteadyState(u, lam, problem.scaled_residual(u, lam), max_iter,
                       f"Newton not converged after {max_iter} iterations")


def newton_path(problem: SteadyProblem, u0: np.ndarray, lam0: float, lam: float, *,
                lower: float | np.ndarray = -np.inf, max_steps: int = 60) -> SteadyState:
    """Steady state at ``lam`` by natural-parameter continuation from the solution ``u0`` at
    ``lam0``, for problems without folds where Newton from a poor guess fails (e.g. currents
    many decades above the limiting current).

    Newton at ``lam`` from ``u0`` first; if that fails, steps from ``lam0`` towards ``lam``
    with a secant predictor, halving a failed step and growing a successful one by 1.5×.
    Gives up (status saying where) after ``max_steps`` solves or a step below 1e-9 of the
    distance.
    """
    direct = newton(problem, u0, lam, lower=lower)
    if direct.status == "ok":
        return direct
    previous, current, at = None, np.array(u0, dtype=float), lam0
    step = (lam - lam0) / 8
    for _ in range(max_steps):
        target = at + step if abs(step) < abs(lam - at) else lam
        guess = current
        if previous is not None:
            guess = current + (current - previous[0]) * (target - at) / (at - previous[1])
            if np.any(guess <= lower):
                guess = current
        state = newton(problem, guess, target, lower=lower)
        if state.status != "ok":
            step /= 2
            if abs(step) < 1e-9 * abs(lam - lam0):
                break
            continue
        if target == lam:
            return state
        previous, current, at = (current, at), state.u, target
        step *= 1.5
    return SteadyState(current, at, math.nan, 0,
                       f"no convergence on the path from {lam0:.6g} to {lam:.6g} (stuck at "
                       f"{at:.6g})")


# ARPACK restarts of spectral_gap's sparse path; beyond, ArpackNoConvergence (a RuntimeError,
# recorded by evaluate as the point's status).
GAP_MAXITER = 1000


def spectral_gap(problem: SteadyProblem, u: np.ndarray, lam: float) -> float:
    """−max Re λ_k of J v = λ M v at the steady state u (1/time); < 0 if unstable.

    M = diag(``problem.mass()``) may have zero entries (algebraic equations such as
    electroneutrality): their infinite eigenvalues are discarded. Sparse path: ARPACK on
    J⁻¹M (shift-invert at 0), whose largest eigenvalues μ give the λ = 1/μ nearest zero.
    """
    _, jac, _ = problem.linearise(u, lam)
    mass = problem.mass()
    if len(mass) <= DENSE_MAX_UNKNOWNS:
        vals = scipy.linalg.eigvals(jac.toarray(), np.diag(mass))
        return float(-np.max(vals[np.isfinite(vals)].real))
    if np.all(mass > 0):
        vals = spla.eigs(jac, k=4, M=sp.diags(mass).tocsc(), sigma=0.0, which="LM",
                         return_eigenvectors=False, tol=1e-12, maxiter=GAP_MAXITER)
        return float(-np.max(vals.real))
    lu = spla.splu(sp.csc_matrix(jac))
    operator = spla.LinearOperator(jac.shape, matvec=lambda x: lu.solve(mass * x),
                                   dtype=float)
    start = np.where(mass > 0, 1.0, 0.0)  # reproducible Arnoldi start in the dynamic subspace
    mu = spla.eigs(operator, k=4, which="LM", return_eigenvectors=False, tol=1e-12, v0=start,
                   maxiter=GAP_MAXITER)
    mu = mu[np.abs(mu) > 0]
    return float(-np.max((1.0 / mu).real))


def _bordered_newton(problem: DiffusionProblem, u: np.ndarray, lam: float, row: np.ndarray,
                     row_lam: float, target: float, lower: float, tol: float = 1e-11,
                     max_iter: int = 12) -> tuple[np.ndarray, float, bool]:
    """Solve F(u; λ) = 0 with the extra equation row·u + row_lam·λ = target."""
    u = np.array(u, dtype=float)
    for _ in range(max_iter):
        res, jac, d_lam = problem.linearise(u, lam)
        mat = sp.bmat([[jac, d_lam[:, None]], [row[None, :], np.array([[row_lam]])]], "csc")
        rhs = -np.append(res, row @ u + row_lam * lam - target)
        step = _sparse_solve(mat, rhs)
        if not np.all(np.isfinite(step)):
            return u, lam, False
        u_new = u + step[:-1]
        if np.any(u_new <= lower):
            return u, lam, False
        u, lam = u_new, lam + step[-1]
        if np.abs(step[:-1]).max() <= tol * np.abs(u).max() and abs(step[-1]) <= tol * (
                abs(lam) + 1e-300):
            return u, lam, True
    return u, lam, False


@dataclass(frozen=True)
class Fold:
    """A turning point of a branch: λ extremal, one eigenvalue of J zero.

    Attributes
    ----------
    parameter : float
        λ at the fold.
    u : ndarray, shape (cells,)
        State at the fold.
    index : int
        Position in the branch's point list after which the fold lies.
    """

    parameter: float
    u: np.ndarray
    index: int


@dataclass(frozen=True)
class Branch:
    """A solution branch traced by pseudo-arclength continuation.

    Attributes
    ----------
    parameters : ndarray, shape (points,)
        λ of every point, in tracing order.
    states : ndarray, shape (points, cells)
        u of every point.
    folds : list of Fold
        Folds passed, in tracing order.
    status : str
        ``"ok"`` when λ reached the stop value, else the reason tracing stopped.
    """

    parameters: np.ndarray
    states: np.ndarray
    folds: list[Fold]
    status: str

    def segments(self) -> list[tuple[int, int]]:
        """Index ranges [start, stop] between consecutive folds (monotone in λ)."""
        cuts = [f.index for f in self.folds]
        starts = [0] + [c + 1 for c in cuts]
        stops = cuts + [len(self.parameters) - 1]
        return list(zip(starts, stops, strict=True))


def _locate_fold(problem: DiffusionProblem, a: tuple[np.ndarray, float],
                 b: tuple[np.ndarray, float], maximum: bool,
                 lower: float) -> tuple[float, np.ndarray]:
    """Extremum of λ between points a, b on either side of a fold (Brent, bounded).

    The branch is parameterised by the node k that moves most between a and b, each
    evaluation a bordered Newton solve with u_k fixed; ``maximum`` says whether λ peaks.
    """
    k = int(np.argmax(np.abs(b[0] - a[0])))
    sign = 1.0 if maximum else -1.0
    row = np.zeros(problem.unknowns)
    row[k] = 1.0
    cache: dict[float, tuple[np.ndarray, float]] = {}

    def lam_at(x: float) -> float:
        start = a if abs(x - a[0][k]) < abs(x - b[0][k]) else b
        u, lam, ok = _bordered_newton(problem, start[0], start[1], row, 0.0, x, lower)
        if not ok:
            return math.inf
        cache[x] = (u, lam)
        return -sign * lam

    lo, hi = sorted((a[0][k], b[0][k]))
    opt = scipy.optimize.minimize_scalar(lam_at, bounds=(lo, hi), method="bounded",
                                         options={"xatol": 1e-9 * max(abs(hi), 1e-300)})
    if opt.x not in cache:
        lam_at(opt.x)
    u, lam = cache[opt.x]
    return lam, u


def continuation(problem: DiffusionProblem, u0: np.ndarray, lam0: float, lam_stop: float, *,
                 step: float = 0.02, max_step: float = 0.3, max_points: int = 2000,
                 lower: float = -np.inf, u_scale: float | None = None) -> Branch:
    """Trace the branch through (u0, λ0) by pseudo-arclength continuation until λ = λ_stop.

    Parameters
    ----------
    problem : DiffusionProblem
    u0 : ndarray, shape (cells,)
        Steady state (or a guess, corrected by Newton first) at ``lam0``.
    lam0, lam_stop : float
        Start and stop values of λ; the branch is followed through any folds until λ passes
        ``lam_stop`` travelling towards it.
    step, max_step : float
        Initial and largest arclength step in scaled variables (u / max|u0|, λ / |λ_stop − λ0|).
    max_points : int
        Limit on the number of points; reaching it gives a status saying so.
    lower : float
        Values of u must stay above ``lower``.
    u_scale : float or None
        Scale of u in the arclength; None takes max|u| at the start (1 if that is 0).

    Returns
    -------
    Branch
        The points up to and including the last one before λ_stop, plus the exact solution at
        λ_stop; folds located to ~1e-12 relative in λ.
    """
    start = newton(problem, u0, lam0, lower=lower)
    if start.status != "ok":
        return Branch(np.array([lam0]), np.array([u0]), [], f"start: {start.status}")
    us = u_scale or float(np.abs(problem.full(start.u)).max()) or 1.0
    ls = abs(lam_stop - lam0) or 1.0
    direction = math.copysign(1.0, lam_stop - lam0)
    lams, states, folds = [lam0], [start.u], []
    tangent = _tangent(problem, start.u, lam0, us, ls, None, direction)
    ds = step
    while len(lams) < max_points:
        u, lam = states[-1], lams[-1]
        pred_u = u + ds * us * tangent[:-1]
        pred_l = lam + ds * ls * tangent[-1]
        row = tangent[:-1] / us
        ok = False
        if np.all(pred_u > lower):
            new_u, new_l, ok = _bordered_newton(problem, pred_u, pred_l, row, tangent[-1] / ls,
                                                row @ pred_u + tangent[-1] / ls * pred_l, lower)
        if not ok:
            ds /= 2
            if ds < 1e-8:
                return Branch(np.array(lams), np.array(states), folds,
                              f"continuation stalled at λ = {lam:.6g}")
            continue
        new_tangent = _tangent(problem, new_u, new_l, us, ls, tangent, direction)
        if (new_l - lam_stop) * (lam - lam_stop) <= 0 and new_tangent[-1] * direction > 0:
            final = newton(problem, u + (new_u - u) * (lam_stop - lam) / (new_l - lam), lam_stop,
                           lower=lower)
            lams.append(lam_stop)
            states.append(final.u)
            return Branch(np.array(lams), np.array(states), folds, final.status)
        if new_tangent[-1] * tangent[-1] < 0:
            fold_l, fold_u = _locate_fold(problem, (u, lam), (new_u, new_l),
                                          tangent[-1] > 0, lower)
            folds.append(Fold(fold_l, fold_u, len(lams) - 1))
        lams.append(new_l)
        states.append(new_u)
        tangent = new_tangent
        ds = min(ds * 1.5, max_step)
    return Branch(np.array(lams), np.array(states), folds,
                  f"λ = {lam_stop:.6g} not reached within {max_points} points")


def _tangent(problem: DiffusionProblem, u: np.ndarray, lam: float, us: float, ls: float,
             previous: np.ndarray | None, direction: float) -> np.ndarray:
    """Unit tangent (du/us, dλ/ls) of the branch, oriented along ``previous`` (or λ direction)."""
    _, jac, d_lam = problem.linearise(u, lam)
    du = -_sparse_solve(jac * us, d_lam * ls)
    t = np.append(du, 1.0)
    reference = previous if previous is not None else np.append(np.zeros_like(u), direction)
    if not np.all(np.isfinite(t)):  # exactly at a fold: J singular, keep the reference
        return reference
    t /= np.linalg.norm(t)
    return t if t @ reference >= 0 else -t


@dataclass(frozen=True)
class GridConvergence:
    """Outcome of successive grid doubling.

    Attributes
    ----------
    value : float
        The finest grid's value of the first monitored quantity.
    cells : int
        Cells of the finest grid.
    error : float
        Richardson estimate |Q_h − Q_{2h}| / (2^p − 1) of the finest grid's error of the first
        quantity (the raw difference when the order is unknown).
    order : float
        Observed order log2(|Q_4h − Q_2h| / |Q_2h − Q_h|) of the first quantity; NaN when
        fewer than three grids were needed or the differences are at round-off (e.g. exact
        discretisations).
    status : str
        ``"ok"`` or ``"grid not converged ..."``.
    values, errors, orders : tuple of float
        The same for every monitored quantity, in the order ``quantity`` returns them.
    relative_error : float
        max_k errors_k / max(|values_k|, floor_k): the largest estimated relative error, which
        refinement brings below ``rtol``.
    """

    value: float
    cells: int
    error: float
    order: float
    status: str
    values: tuple[float, ...] = ()
    errors: tuple[float, ...] = ()
    orders: tuple[float, ...] = ()
    relative_error: float = math.nan


def check_refinement(cells: int, max_cells: int) -> None:
    """Raise :class:`ParameterError` unless ``max_cells >= 4·cells``: :func:`refine_grid`
    doubles the grid from ``cells`` and needs three grids to measure the order."""
    if max_cells < 4 * cells:
        raise ParameterError(
            f"parameter 'max_cells': {max_cells!r} is not allowed; expected "
            f">= 4·cells = {4 * cells} (three grids measure the order)"
        )


def refine_grid(quantity: Callable[[int], float | Sequence[float]], cells: int, rtol: float,
                max_cells: int, floor: float | Sequence[float] = 0.0) -> GridConvergence:
    """Double the grid from ``cells`` until every monitored quantity's estimated relative
    error is below ``rtol``.

    At least three grids are solved, so that the observed order is always measured.

    ``quantity(n)`` solves on ``n`` cells and returns the monitored scalar, or a sequence of
    scalars (every reported scalar of a model, so that convergence control covers what is
    reported); a NaN aborts. Quantity k has converged when its Richardson error is at most
    ``rtol``·max(|Q_k|, ``floor_k``): ``floor`` (one value or one per quantity, default 0) is
    the scale below which a quantity counts as zero, e.g. a current at equilibrium whose
    grid differences are round-off.
    """
    values = [np.atleast_1d(np.asarray(quantity(cells), dtype=float))]
    floors = np.broadcast_to(np.asarray(floor, dtype=float), values[0].shape)
    n = cells
    orders = np.full(values[0].shape, math.nan)
    errors = np.full(values[0].shape, math.nan)
    while 2 * n <= max_cells:
        n *= 2
        values.append(np.atleast_1d(np.asarray(quantity(n), dtype=float)))
        if not np.all(np.isfinite(values[-1])):
            break
        diff = np.abs(values[-1] - values[-2])
        scale = np.maximum(np.abs(values[-1]), 1e-300)
        if len(values) >= 3:
            previous = np.abs(values[-2] - values[-3])
            with np.errstate(divide="ignore", invalid="ignore"):
                observed = np.log2(previous / diff)
            measurable = (diff > 1e-13 * scale) & (previous > 1e-13 * scale)
            orders = np.where(diff > 1e-13 * scale, np.where(measurable, observed, math.nan),
                              orders)
        richardson = np.isfinite(orders) & (orders > 0.5)
        with np.errstate(over="ignore"):
            errors = np.where(richardson, diff / (2.0 ** np.where(richardson, orders, 1.0) - 1),
                              diff)
        relative = errors / np.maximum(np.abs(values[-1]), np.maximum(floors, 1e-300))
        if len(values) >= 3 and np.all(errors <= rtol * np.maximum(np.abs(values[-1]), floors)):
            return _convergence(values[-1], n, errors, orders, relative, "ok")
    if len(values) > 1:
        errors = np.abs(values[-1] - values[-2])
    relative = errors / np.maximum(np.abs(values[-1]), np.maximum(floors, 1e-300))
    return _convergence(values[-1], n, errors, orders, relative,
                        f"grid not converged to rtol = {rtol:g} at {n} cells")


def _convergence(values: np.ndarray, cells: int, errors: np.ndarray, orders: np.ndarray,
                 relative: np.ndarray, status: str) -> GridConvergence:
    worst = float(np.nanmax(relative)) if np.isfinite(relative).any() else math.nan
    return GridConvergence(float(values[0]), cells, float(errors[0]), float(orders[0]), status,
                           tuple(map(float, values)), tuple(map(float, errors)),
                           tuple(map(float, orders)), worst)
