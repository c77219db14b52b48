"""Write the reference tables of config/papers/ from the published closed forms.

Each table is a CSV whose leading ``#`` lines cite the source and state the formula and the
parameters; the paper configs overlay them on the pipeline's results and report the largest
relative deviation. The values are computed here from the formulas alone (exact rational
arithmetic for DEHP), never by ness-sweep's solvers. Run from the repository root:

    python config/papers/make_references.py
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def write_table(name: str, header: list[str], columns: tuple[str, str],
                rows: list[tuple[float, float]]) -> None:
    lines = [f"# {line}" for line in header]
    lines.append(",".join(columns))
    lines += [f"{x!r},{y!r}" for x, y in rows]
    (DATA / name).write_text("\n".join(lines) + "\n")


def dehp_current(length: int, alpha: Fraction, beta: Fraction) -> Fraction:
    """Exact finite-L TASEP current J = Z_{L-1}/Z_L (Derrida, Evans, Hakim, Pasquier 1993,
    eq. 39 of J. Phys. A 26, 1493), Z_L = Σ_p p(2L−1−p)!/(L!(L−p)!) Σ_{k=0}^{p} β^−k α^−(p−k)."""

    def z(n: int) -> Fraction:
        return sum(Fraction(p * math.factorial(2 * n - 1 - p),
                            math.factorial(n) * math.factorial(n - p))
                   * sum(beta ** -k * alpha ** -(p - k) for k in range(p + 1))
                   for p in range(1, n + 1))

    return z(length - 1) / z(length)


def tasep_bulk_current(alpha: float, beta: float) -> float:
    """L → ∞ TASEP current: α(1−α) (low density), β(1−β) (high density), 1/4 (max. current)."""
    if alpha < 0.5 and alpha < beta:
        return alpha * (1 - alpha)
    if beta < 0.5 and beta < alpha:
        return beta * (1 - beta)
    return 0.25


def main() -> None:
    DATA.mkdir(exist_ok=True)
    alphas = [Fraction(i, 20) for i in range(1, 20)]
    write_table("dehp1993_current_L10.csv", [
        "Exact TASEP current of an open chain of L = 10 sites, beta = 0.3, p = 1, q = 0:",
        "J = Z_{L-1}/Z_L, Z_L = sum_p p(2L-1-p)!/(L!(L-p)!) sum_k beta^-k alpha^-(p-k)",
        "B. Derrida, M. R. Evans, V. Hakim, V. Pasquier, J. Phys. A 26, 1493 (1993).",
        "Computed in exact rational arithmetic by config/papers/make_references.py."],
        ("alpha", "current"),
        [(float(a), float(dehp_current(10, a, Fraction(3, 10)))) for a in alphas])
    write_table("dehp1993_bulk_current.csv", [
        "L -> infinity TASEP current at beta = 0.7: alpha(1 - alpha) for alpha < 1/2 (LD),",
        "1/4 for alpha >= 1/2 (maximal current); DEHP 1993, J. Phys. A 26, 1493.",
        "Finite chains approach it as O(1/L) in LD and O(1/L) from above in MC."],
        ("alpha", "current"),
        [(a / 20, tasep_bulk_current(a / 20, 0.7)) for a in range(1, 20)])

    mass = stiffness = friction = 1.0
    delta_t = 1.0
    nu = stiffness * mass / friction ** 2
    rll = stiffness * delta_t / (2 * friction) * (1 + nu / 2 - nu / 2 * math.sqrt(1 + 4 / nu))
    write_table("rll1967_current.csv", [
        "Heat current of a harmonic chain between Langevin baths, N -> infinity:",
        "J = (k dT / 2 lambda)[1 + nu/2 - (nu/2) sqrt(1 + 4/nu)], nu = k m / lambda^2,",
        "m = k = lambda = 1, dT = T_L - T_R = 1. Z. Rieder, J. L. Lebowitz, E. Lieb,",
        "J. Math. Phys. 8, 1073 (1967); in this form A. Dhar, Adv. Phys. 57, 457 (2008), 3.1."],
        ("N", "current"), [(float(n), rll) for n in (4, 8, 16, 32, 64, 128)])

    gamma = 1.0
    drives = [i / 10 for i in range(1, 41)]
    write_table("resonance_fluorescence_fano.csv", [
        "Long-time Fano factor of the photon count of a resonantly driven two-level atom,",
        "T = 0, detuning 0: F = 1 - 6 gamma^2 Omega^2 / (gamma^2 + 2 Omega^2)^2, gamma = 1",
        "(sub-Poissonian, F = 1/4 at Omega = gamma/sqrt 2). L. Mandel, Opt. Lett. 4, 205 (1979);",
        "R. J. Cook, Phys. Rev. A 23, 1243 (1981)."],
        ("drive", "fano_factor"),
        [(om, 1 - 6 * gamma**2 * om**2 / (gamma**2 + 2 * om**2) ** 2) for om in drives])
    write_table("resonance_fluorescence_flux.csv", [
        "Photon emission flux of a resonantly driven two-level atom at T = 0: gamma rho_ee,",
        "rho_ee = Omega^2 / (gamma^2 + 2 Omega^2), gamma = 1. B. R. Mollow, Phys. Rev. 188,",
        "1969 (1969)."],
        ("drive", "current"),
        [(om, gamma * om**2 / (gamma**2 + 2 * om**2)) for om in drives])

    delta_t = 1e-6
    temps = [0.0005 * i for i in range(1, 11)]
    write_table("thermal_conductance_quantum.csv", [
        "Heat current of one ballistic channel for a small temperature difference dT = 1e-6:",
        "J_Q = kappa_0 dT, kappa_0 = pi^2 k_B^2 T / (3 h) = pi T / 6 (hbar = k_B = 1).",
        "J. B. Pendry, J. Phys. A 16, 2161 (1983); K. Schwab et al., Nature 404, 974 (2000)."],
        ("temperature", "heat_current_left"),
        [(t, math.pi * t * delta_t / 6) for t in temps])

    mu, coupling = 0.2, 1.0
    write_table("znidaric_xx_current.csv", [
        "Spin current of the boundary-driven XX chain (anisotropy 0): ballistic, the same for",
        "every L >= 2. In this project's convention (H = sum sx sx + sy sy, bath rates",
        "Gamma(1 +- mu)/2 at the ends, J = <2(sx sy - sy sx)>): J = 16 mu Gamma / (16 + Gamma^2),",
        "the dephasing-free limit of M. Znidaric, J. Stat. Mech. (2010) L05002 (j = mu/(G + 1/G),",
        "G = Gamma/4, current 4j); checked against a dense Lindblad solution in tests/test_papers.py.",
        "mu = 0.2, Gamma = 1."],
        ("L", "current"),
        [(float(n), 16 * mu * coupling / (16 + coupling**2)) for n in range(4, 11)])


if __name__ == "__main__":
    main()
