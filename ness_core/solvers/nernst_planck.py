"""Electroneutral Nernst–Planck transport of ions in a 1-D layer, finite volumes.

The ion-transport counterpart of :class:`ness_core.solvers.continuum.DiffusionProblem`: a
:class:`~ness_core.solvers.continuum.SteadyProblem` on the same :class:`Grid`, solved by the
same :func:`~ness_core.solvers.continuum.newton` (and
:func:`~ness_core.solvers.continuum.newton_path`), with the gap from
:func:`~ness_core.solvers.continuum.spectral_gap` (its mass matrix has zero rows: the
potential is fixed by an algebraic equation). Equations and scheme in
:class:`NernstPlanckProblem`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ness_core.solvers.continuum import Grid


def logarithmic_mean(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, ...]:
    """Λ(a, b) = (b − a)/ln(b/a) (Λ(a, a) = a) and its partial derivatives, elementwise, a, b > 0.

    Series in t = (b − a)/(b + a) for |t| < 1e-4: Λ = m(1 − t²/3 − 4t⁴/45), m = (a + b)/2.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    t = (b - a) / (b + a)
    near = np.abs(t) < 1e-4
    relative = np.where(np.abs(t) < 0.2, (b - a) / a, 0.0)  # log1p where b/a ≈ 1, else log
    log_ratio = np.where(near, 1.0, np.where(np.abs(t) < 0.2, np.log1p(relative),
                                             np.log(np.where(np.abs(t) < 0.2, 1.0, b / a))))
    lam = np.where(near, (a + b) / 2 * (1 - t**2 / 3 - 4 * t**4 / 45), (b - a) / log_ratio)
    d_a = np.where(near, 0.5 + t / 3 + t**2 / 6, (lam / a - 1) / log_ratio)
    d_b = np.where(near, 0.5 - t / 3 + t**2 / 6, (1 - lam / b) / log_ratio)
    return lam, d_a, d_b


@dataclass(frozen=True)
class Species:
    """One ion of a :class:`NernstPlanckProblem`: charge number, diffusivity, bulk value."""

    charge: int
    diffusivity: float
    bulk: float


@dataclass(frozen=True)
class NernstPlanckProblem:
    """Electroneutral Nernst–Planck transport of ions between an electrode and a bulk.

    Species k = 0 … m−1 (charges z_k, diffusivities D_k) with fluxes
    N_k = −D_k (∂c_k/∂x + z_k c_k ∂ψ/∂x), ψ = FΦ/(RT) the dimensionless potential, obey

        ∂c_k/∂t = −∂N_k/∂x (k < m − 1),   Σ_k z_k c_k = 0,   ∂/∂x Σ_k z_k N_k = 0,

    the last species' concentration being fixed by electroneutrality and the potential by
    current conservation (an algebraic equation: zero rows of the mass matrix). Boundary
    conditions: c_k = bulk values and ψ = 0 at x = L; at x = 0 inward fluxes
    f_k(c(0), ψ(0); λ) given by ``boundary_flux`` (electrode kinetics). Unknowns per node
    i < cells, interleaved: c_0 … c_{m−2}, ψ. Two-point face fluxes with the logarithmic
    mean Λ(c_i, c_{i+1}) = (c_{i+1} − c_i)/ln(c_{i+1}/c_i) as the migrating concentration,

        N = −(D a/h) [c_{i+1} − c_i + z Λ (ψ_{i+1} − ψ_i)] = −(D a/h) Λ Δμ,   μ = ln c + zψ,

    so every face dissipates N·(−Δμ) ≥ 0, a species in Boltzmann equilibrium (c ∝ e^{−zψ})
    has exactly zero flux, the flux stays bounded as c → 0 (at a limiting current) and the
    binary-salt profile (c linear, ψ = ln c / |z_anion|) is reproduced exactly; second order
    in general. The logarithmic mean is the one of the discrete gradient structure of
    diffusion (J. Maas, J. Funct. Anal. 261, 2250 (2011); A. Mielke, Nonlinearity 24, 1329
    (2011)); the equations are those of J. Newman & K. E. Thomas-Alyea, *Electrochemical
    Systems*, 3rd ed. (2004), Ch. 11 and 19.

    Parameters
    ----------
    grid : Grid
    species : tuple of Species
        m ≥ 2 ions; the bulk values must be electroneutral (Σ z_k c_k,b = 0).
    boundary_flux : callable ``(w_0, λ) -> (f, ∂f/∂w_0, ∂f/∂λ)``
        w_0 = (c_0 … c_{m−1}, ψ) at x = 0, shape (m + 1,); f shape (m,), ∂f/∂w_0 shape
        (m, m + 1), ∂f/∂λ shape (m,): inward fluxes of every species.
    """

    grid: Grid
    species: tuple[Species, ...]
    boundary_flux: Callable[[np.ndarray, float], tuple[np.ndarray, np.ndarray, np.ndarray]]
    _state_map: sp.csr_matrix = field(init=False, repr=False)
    _divergence: sp.csr_matrix = field(init=False, repr=False)

    def __post_init__(self) -> None:
        m = len(self.species)
        if m < 2:
            raise ValueError(f"need at least 2 species, got {m}")
        z = np.array([s.charge for s in self.species], dtype=float)
        bulk = np.array([s.bulk for s in self.species])
        if abs(z @ bulk) > 1e-12 * np.abs(z * bulk).max():
            raise ValueError(f"bulk concentrations are not electroneutral: Σ z c = {z @ bulk}")
        n = self.unknowns // m
        # full node state W (n + 1 nodes × (m concentrations, ψ)) = P u + W_bulk: per node,
        # c_j = u_j (j < m − 1), c_{m−1} = −Σ_j z_j u_j / z_{m−1}, ψ = u_{m−1}
        local_rows = np.r_[np.arange(m - 1), np.full(m - 1, m - 1), m]
        local_cols = np.r_[np.arange(m - 1), np.arange(m - 1), m - 1]
        local_vals = np.r_[np.ones(m - 1), -z[:-1] / z[-1], 1.0]
        node = np.repeat(np.arange(n), local_rows.size)
        state_map = sp.csr_matrix(
            (np.tile(local_vals, n), (node * (m + 1) + np.tile(local_rows, n),
                                      node * m + np.tile(local_cols, n))),
            shape=((n + 1) * (m + 1), n * m))
        object.__setattr__(self, "_state_map", state_map)
        # residual rows (species balances k < m − 1, charge) from face fluxes N[f, k]:
        # outflow of node f, inflow of node f + 1 (the Dirichlet node n has no row)
        face, k = np.repeat(np.arange(n), m), np.tile(np.arange(m), n)
        rows, cols, vals = [], [], []
        for target, sign in ((face, -1.0), (face + 1, 1.0)):
            keep = target < n
            species = keep & (k < m - 1)
            rows += [target[species] * m + k[species], target[keep] * m + m - 1]
            cols += [(face * m + k)[species], (face * m + k)[keep]]
            vals += [np.full(species.sum(), sign), sign * z[k[keep]]]
        object.__setattr__(self, "_divergence", sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n * m, n * m)))

    @property
    def unknowns(self) -> int:
        """(cells) × (number of species): m − 1 concentrations and ψ per unknown node."""
        return (len(self.grid.nodes) - 1) * len(self.species)

    @property
    def charges(self) -> np.ndarray:
        """z_k, shape (m,)."""
        return np.array([s.charge for s in self.species], dtype=float)

    def uniform(self) -> np.ndarray:
        """Unknowns of the bulk state (every node at the bulk values, ψ = 0): a first guess."""
        bulk = [s.bulk for s in self.species[:-1]] + [0.0]
        return np.tile(bulk, len(self.grid.nodes) - 1)

    def interpolate(self, nodes: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Unknowns on this grid from node states ``states`` (shape (len(nodes), m + 1), as
        returned by :meth:`state`) at positions ``nodes``, linearly interpolated."""
        columns = [*range(len(self.species) - 1), len(self.species)]
        x = self.grid.nodes[:-1]
        return np.column_stack([np.interp(x, nodes, states[:, j]) for j in columns]).ravel()

    def lower_bounds(self) -> np.ndarray:
        """Bounds for :func:`newton`: concentrations > 0, ψ free."""
        m = len(self.species)
        return np.tile([0.0] * (m - 1) + [-np.inf], len(self.grid.nodes) - 1)

    def state(self, u: np.ndarray) -> np.ndarray:
        """Node states (c_0 … c_{m−1}, ψ) at every node incl. x = L, shape (cells + 1, m + 1)."""
        m = len(self.species)
        bulk = np.zeros(self.grid.nodes.size * (m + 1))
        bulk[-(m + 1):] = [s.bulk for s in self.species] + [0.0]
        return (self._state_map @ u + bulk).reshape(-1, m + 1)

    def _face_fluxes(self, w: np.ndarray) -> tuple[np.ndarray, ...]:
        """N[f, k] and its derivatives by c_i, c_{i+1} and ψ_{i+1} (= −∂/∂ψ_i), shape (cells, m)."""
        z = self.charges[None, :]
        d = np.array([s.diffusivity for s in self.species])
        coef = (self.grid.faces / self.grid.spacing)[:, None] * d[None, :]
        c_left, c_right = w[:-1, :-1], w[1:, :-1]
        d_psi = (w[1:, -1] - w[:-1, -1])[:, None]
        lam, lam_left, lam_right = logarithmic_mean(c_left, c_right)
        flux = -coef * (c_right - c_left + z * lam * d_psi)
        return (flux, -coef * (z * lam_left * d_psi - 1), -coef * (1 + z * lam_right * d_psi),
                -coef * z * lam)

    def face_fluxes(self, u: np.ndarray) -> np.ndarray:
        """N_k through every face (positive towards x = L), shape (cells, m)."""
        return self._face_fluxes(self.state(u))[0]

    def _boundary(self, w: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Boundary terms of the node-0 rows: values, ∂/∂w_0 and ∂/∂λ."""
        m = len(self.species)
        f, df, df_lam = self.boundary_flux(w[0], lam)
        weights = np.vstack([np.eye(m)[:-1], self.charges])  # species rows, charge row
        return weights @ f, weights @ df, weights @ df_lam

    def residual(self, u: np.ndarray, lam: float) -> np.ndarray:
        """F(u; λ), shape (unknowns,): net inflows and the current balance of every node."""
        w = self.state(u)
        res = self._divergence @ self._face_fluxes(w)[0].ravel()
        res[:len(self.species)] += self._boundary(w, lam)[0]
        return res

    def linearise(self, u: np.ndarray, lam: float) -> tuple[np.ndarray, sp.csc_matrix, np.ndarray]:
        """(F, ∂F/∂u as sparse CSC, ∂F/∂λ) at (u, λ)."""
        m = len(self.species)
        w = self.state(u)
        flux, d_left, d_right, d_psi = self._face_fluxes(w)
        faces, width = flux.shape[0], m + 1
        f = np.repeat(np.arange(faces), m)
        k = np.tile(np.arange(m), faces)
        rows = np.concatenate([f * m + k] * 4)
        cols = np.concatenate([f * width + k, (f + 1) * width + k, f * width + m,
                               (f + 1) * width + m])
        vals = np.concatenate([d_left.ravel(), d_right.ravel(), -d_psi.ravel(), d_psi.ravel()])
        d_flux = sp.csr_matrix((vals, (rows, cols)), shape=(faces * m, w.size))
        jac = self._divergence @ d_flux @ self._state_map
        res = self._divergence @ flux.ravel()
        b, db, db_lam = self._boundary(w, lam)
        res[:m] += b
        corner = sp.coo_matrix(db @ self._state_map[:width, :m].toarray())
        jac = jac + sp.coo_matrix((corner.data, (corner.row, corner.col)), shape=jac.shape)
        d_lam = np.zeros(self.unknowns)
        d_lam[:m] = db_lam
        return res, sp.csc_matrix(jac), d_lam

    def mass(self) -> np.ndarray:
        """Diagonal of M: control volumes V_i on species rows, 0 on the current rows."""
        m = len(self.species)
        weights = np.r_[np.ones(m - 1), 0.0]
        return np.outer(self.grid.volumes[:-1], weights).ravel()

    def scaled_residual(self, u: np.ndarray, lam: float) -> float:
        """max |F| / the largest face-flux term (D a/h)|c_i|, (D a/h)|z Λ Δψ| or boundary flux."""
        w = self.state(u)
        _, _, _, d_psi = self._face_fluxes(w)
        coef = (self.grid.faces / self.grid.spacing)[:, None] * np.array(
            [s.diffusivity for s in self.species])[None, :]
        scale = max(float(np.abs(coef * w[:-1, :-1]).max()),
                    float(np.abs(d_psi * (w[1:, -1:] - w[:-1, -1:])).max()),
                    float(np.abs(self._boundary(w, lam)[0]).max()), 1e-300)
        return float(np.abs(self.residual(u, lam)).max() / scale)

    def dissipation(self, u: np.ndarray) -> tuple[float, float]:
        """(Σ_faces,k N_k Δ ln c_k, Σ_faces,k N_k z_k Δψ), Δ = left node − right node.

        Discrete ∫ Σ_k N_k (−∂μ_k/∂x) dx with μ_k = ln c_k + z_k ψ (in units of k_B T per ion)
        split into its diffusion and migration (Ohmic) parts; the sum is ≥ 0 face by face.
        """
        w = self.state(u)
        flux = self._face_fluxes(w)[0]
        with np.errstate(divide="ignore", invalid="ignore"):
            log_c = np.log(w[:, :-1])
        diffusion = float(np.sum(flux * (log_c[:-1] - log_c[1:])))
        migration = float(np.sum(flux * self.charges[None, :] * (w[:-1, -1:] - w[1:, -1:])))
        return diffusion, migration
