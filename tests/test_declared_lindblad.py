"""Lindblad models declared in a config (model: lindblad) against Liouvillians built here.

Every reference value comes from operators written out in this file with numpy (Pauli and
truncated ladder matrices, np.kron) and the dense Liouvillian in column stacking,
L = −i(I⊗H − Hᵀ⊗I) + Σ_k (L_k*⊗L_k − ½ I⊗L_k†L_k − ½ (L_k†L_k)ᵀ⊗I): the steady state as its
null vector, the gap from numpy.linalg.eigvals, the count variance as the curvature of the
largest eigenvalue of the tilted Liouvillian; Spohn's entropy production of a qubit between
two thermal baths in closed form.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg

from ness_core import cli, evaluate, get_model
from ness_core.errors import ParameterError
from ness_core.models import declared

SP = np.array([[0.0, 1.0], [0.0, 0.0]])  # |up⟩⟨down|, basis (up, down)
SM = SP.T
SZ = np.diag([1.0, -1.0])
I2 = np.eye(2)

SPIN_PAIR = {
    "parameters": {"J": 1.0, "h": 0.0, "g_in": 1.0, "g_out": 1.0},
    "sites": {"s1": "spin", "s2": "spin"},
    "hamiltonian": "J * (s1.sp * s2.sm + s1.sm * s2.sp) + h * s1.sz",
    "jumps": {"pump": {"operator": "s1.sp", "rate": "g_in"},
              "loss": {"operator": "s2.sm", "rate": "g_out"}},
    "current": "loss",
    "observables": {"magnetisation": "s1.sz + s2.sz", "coherence": "s1.sp * s2.sm"},
}
BOSON = {
    "parameters": {"detuning": 0.5, "U": 0.3, "F": 0.8, "kappa": 1.0},
    "sites": {"c": {"boson": 10}},
    "hamiltonian": "-detuning * c.n + U / 2 * c.ad ** 2 * c.a ** 2 + F * (c.a + dag(c.a))",
    "jumps": {"loss": {"operator": "c.a", "rate": "kappa"}},
    "observables": {"photons": "c.n"},
}


def _name(block: dict) -> str:
    return declared.model_name("lindblad", declared.normalize("lindblad", block))


def _liouvillian(h: np.ndarray, jumps: list[np.ndarray]) -> np.ndarray:
    n = h.shape[0]
    eye = np.eye(n)
    out = -1j * (np.kron(eye, h) - np.kron(h.T, eye))
    for j in jumps:
        k = j.conj().T @ j
        out += np.kron(j.conj(), j) - 0.5 * np.kron(eye, k) - 0.5 * np.kron(k.T, eye)
    return out


def _steady(liou: np.ndarray, n: int) -> np.ndarray:
    vec = scipy.linalg.null_space(liou)[:, 0]
    rho = vec.reshape(n, n, order="F")
    return rho / np.trace(rho)


def _gap(liou: np.ndarray) -> float:
    lam = np.linalg.eigvals(liou)
    lam = np.delete(lam, np.argmin(np.abs(lam)))
    return float(-lam.real.max())


def _spin_pair(J: float, h: float, g_in: float, g_out: float):
    s1p, s1m, s1z = np.kron(SP, I2), np.kron(SM, I2), np.kron(SZ, I2)
    s2p, s2m, s2z = np.kron(I2, SP), np.kron(I2, SM), np.kron(I2, SZ)
    ham = J * (s1p @ s2m + s1m @ s2p) + h * s1z
    return ham, [math.sqrt(g_in) * s1p, math.sqrt(g_out) * s2m], s1z + s2z, s1p @ s2m


@pytest.mark.parametrize("J, h, g_in, g_out", [(1.0, 0.0, 1.0, 1.0), (0.7, 0.4, 0.3, 1.9)])
def test_declared_spin_pair_matches_the_dense_liouvillian(J, h, g_in, g_out):
    ham, jumps, mag, coh = _spin_pair(J, h, g_in, g_out)
    liou = _liouvillian(ham, jumps)
    rho = _steady(liou, 4)
    out = evaluate(_name(SPIN_PAIR), J=J, h=h, g_in=g_in, g_out=g_out)
    assert out["status"] == "ok"
    assert out["current"] == pytest.approx(np.trace(jumps[1] @ rho @ jumps[1].conj().T).real,
                                           abs=1e-10)
    assert out["gap"] == pytest.approx(_gap(liou), abs=1e-10)
    assert out["expectation_magnetisation"] == pytest.approx(np.trace(mag @ rho).real,
                                                             abs=1e-10)
    assert out["expectation_coherence"] == pytest.approx(np.trace(coh @ rho).real, abs=1e-10)
    # no jump declares a bath: σ is NaN, and the variable's long name says why
    assert math.isnan(out["entropy_production"])
    m = get_model(_name(SPIN_PAIR))
    assert "declares no bath" in m.observable("entropy_production").long_name


def test_the_count_variance_is_the_curvature_of_the_dense_tilted_liouvillian():
    ham, jumps, _, _ = _spin_pair(0.7, 0.4, 0.3, 1.9)
    liou = _liouvillian(ham, jumps)
    kernel = np.kron(jumps[1].conj(), jumps[1])
    step = 1e-2

    def theta(s: float) -> float:
        return float(np.linalg.eigvals(liou + math.expm1(s) * kernel).real.max())

    curvature = (-theta(2 * step) + 16 * theta(step) - 30 * theta(0) + 16 * theta(-step)
                 - theta(-2 * step)) / (12 * step * step)
    out = evaluate(_name(SPIN_PAIR), J=0.7, h=0.4, g_in=0.3, g_out=1.9, fluctuations=True)
    assert out["current_variance"] == pytest.approx(curvature, rel=1e-6)


@pytest.mark.parametrize("detuning, U, F", [(0.5, 0.3, 0.8), (-1.0, 1.0, 0.4)])
def test_declared_driven_boson_matches_the_dense_liouvillian(detuning, U, F):
    levels = 10
    a = np.diag(np.sqrt(np.arange(1, levels)), 1)
    ad = a.T
    ham = -detuning * ad @ a + U / 2 * ad @ ad @ a @ a + F * (a + ad)
    jumps = [a.astype(complex)]  # kappa = 1
    liou = _liouvillian(ham.astype(complex), jumps)
    rho = _steady(liou, levels)
    out = evaluate(_name(BOSON), detuning=detuning, U=U, F=F)
    assert out["status"] == "ok"
    photons = np.trace(ad @ a @ rho).real
    assert out["current"] == pytest.approx(photons, abs=1e-10)  # κ⟨a†a⟩, κ = 1
    assert out["expectation_photons"] == pytest.approx(photons, abs=1e-10)
    assert out["gap"] == pytest.approx(_gap(liou), abs=1e-10)


def _two_baths(drive: float, temperature: float = 1.0, w: float = 1.0,
               g_hot: float = 0.5, g_cold: float = 0.8) -> dict:
    def bath(name: str, t: str, g: float) -> dict:
        n = f"(1 / (exp(w / ({t})) - 1))"
        return {f"{name}_down": {"operator": "q.sm", "rate": f"{g} * ({n} + 1)",
                                 "bath": {"temperature": t, "partner": f"{name}_up"}},
                f"{name}_up": {"operator": "q.sp", "rate": f"{g} * {n}"}}

    return {"parameters": {"w": w, "temperature": temperature, "drive": drive},
            "sites": {"q": "spin"}, "hamiltonian": "w / 2 * q.sz",
            "jumps": {**bath("hot", "temperature + drive / 2", g_hot),
                      **bath("cold", "temperature - drive / 2", g_cold)},
            "current": "cold_down"}


@pytest.mark.parametrize("drive", [0.0, 0.4, 1.2])
def test_spohn_entropy_production_of_a_qubit_between_two_baths(drive):
    """Closed form: p_up = Σ γ_b n_b / Σ γ_b (2 n_b + 1); heat from bath b
    J_b = w γ_b (n_b p_down − (n_b + 1) p_up); σ = −Σ_b J_b / T_b."""
    w, temperature, gammas = 1.0, 1.0, (0.5, 0.8)
    temps = (temperature + drive / 2, temperature - drive / 2)
    occupations = [1 / math.expm1(w / t) for t in temps]
    p_up = (sum(g * n for g, n in zip(gammas, occupations, strict=True))
            / sum(g * (2 * n + 1) for g, n in zip(gammas, occupations, strict=True)))
    heats = [w * g * (n * (1 - p_up) - (n + 1) * p_up)
             for g, n in zip(gammas, occupations, strict=True)]
    sigma = -sum(j / t for j, t in zip(heats, temps, strict=True))
    out = evaluate(_name(_two_baths(drive)))
    assert out["status"] == "ok" and out["note"] == ""
    assert out["entropy_production"] == pytest.approx(sigma, abs=1e-12)
    assert out["entropy_production"] >= 0.0
    assert out["current"] == pytest.approx(0.8 * (occupations[1] + 1) * p_up, abs=1e-12)
    if drive == 0:
        assert out["entropy_production"] == 0.0  # one temperature: the Gibbs state


def test_local_baths_without_detailed_balance_give_nan_with_the_reason():
    """Thermal rates (ratio e^{2h/T}) on s1's local σ± while s1 and s2 are coupled by J:
    σ± are no eigenoperators of H, so D[Gibbs(H)] ≠ 0 and Spohn's formula does not apply."""
    block = {**SPIN_PAIR, "jumps": {
        "down": {"operator": "s1.sm", "rate": "g_out",
                 "bath": {"temperature": 1.0, "partner": "up"}},
        "up": {"operator": "s1.sp", "rate": "g_in"}}, "current": "down"}
    out = evaluate(_name(block), J=1.0, h=1.0, g_in=math.exp(-2.0), g_out=1.0)
    assert math.isnan(out["entropy_production"]) and "Gibbs" in out["note"]


STUDY = ("studies:\n  chain:\n    model: lindblad\n    lindblad:\n"
         "      parameters: {J: 1.0, K: 1.0}\n      sites: %s\n"
         "      hamiltonian: %s\n      jumps: {loss: {operator: %s, rate: 1.0}}\n"
         "    sweep: {K: [1.0, 2.0]}\n")
SITES = "{s1: spin, s2: spin}"


@pytest.mark.parametrize("sites, hamiltonian, jump, words", [
    (SITES, '"J * (s1.sp + s1.sm) + s2.sp"', "s1.sm", ["study 'chain'", "not Hermitian"]),
    (SITES, '"J * s1.sp + K * s1.sm"', "s1.sm",
     ["study 'chain'", "sweep point {'K': 2.0}", "not Hermitian"]),
    (SITES, '"J * s3.sz"', "s1.sm", ["study 'chain'", "unknown site 's3'", "s1, s2"]),
    (SITES, '"J * s1.a"', "s1.sm", ["study 'chain'", "no operator 'a'", "sx, sy, sz, sp, sm"]),
    (SITES, '"J * s1.sz"', "s2.n", ["study 'chain'", "jump 'loss'", "no operator 'n'"]),
    (SITES, '"__import__(\'os\').system(\'true\')"', "s1.sm", ["study 'chain'", "not allowed"]),
    (SITES, '"s1.sz.real"', "s1.sm", ["study 'chain'", "not allowed"]),
    (SITES, '"exp(s1.sz)"', "s1.sm", ["study 'chain'", "exp of an operator"]),
    (SITES, '"s1.sz ** K"', "s1.sm", ["study 'chain'", "literal integer"]),
    (SITES, '"s1.sz / s2.sz"', "s1.sm", ["study 'chain'", "division by an operator"]),
    (SITES, '"J * s1"', "s1.sm", ["study 'chain'", "needs an operator"]),
    ("{a: {boson: 100}, b: {boson: 100}}", '"J * a.n"', "a.a",
     ["study 'chain'", "10000 states", "more than 4096"]),
    ("{a: {boson: 1}}", '"J * a.n"', "a.a", ["study 'chain'", "not a site"]),
])
def test_bad_lindblad_blocks_give_one_config_error_line(sites, hamiltonian, jump, words,
                                                        tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text(STUDY % (sites, hamiltonian, jump), encoding="utf-8")
    code = cli.main(["plan", str(path), "-d", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("config error: ") and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)


def test_a_liouvillian_above_the_memory_limit_is_a_config_error(tmp_path, capsys):
    sites = "{" + ", ".join(f"s{i}: spin" for i in range(1, 8)) + "}"  # 128 states
    path = tmp_path / "config.yaml"
    path.write_text(STUDY % (sites, '"J * s1.sz"', "s1.sm"), encoding="utf-8")
    code = cli.main(["plan", str(path), "-d", str(tmp_path), "--max-mem-mb", "100"])
    out, err = capsys.readouterr()
    assert code == 2 and err.startswith("config error: study 'chain'") and "limit" in err, err


def test_operator_algebra_follows_the_documented_conventions():
    """sz|up⟩ = +|up⟩, sp = |up⟩⟨down|, first site leftmost; a|n⟩ = √n|n−1⟩."""
    from ness_core.operators import OperatorSpace, Site, build_operator

    space = OperatorSpace((Site("s1", "spin", 2), Site("c", "boson", 3)))
    got = build_operator("2 * s1.sp * c.ad ** 2 + dag(s1.sz) - 1", space, {}, "x").toarray()
    ad = np.diag(np.sqrt([1.0, 2.0]), -1)
    assert np.allclose(got, 2 * np.kron(SP, ad @ ad) + np.kron(SZ, np.eye(3)) - np.eye(6))
    with pytest.raises(ParameterError, match="divides by zero"):
        build_operator("s1.sz / (J - 1)", space, {"J": 1.0}, "x")


@pytest.mark.parametrize(("text", "params"), [
    ("1e400 * s1.sx", {}), ("J * s1.sp * 10 + 1", {"J": 1e308}), ("J * J * c.n", {"J": 1e200})])
def test_a_coefficient_that_overflows_is_one_error_and_no_warning(text, params, capfd):
    """inf or NaN entries are refused naming the key, without numpy's RuntimeWarning."""
    import warnings

    from ness_core.operators import OperatorSpace, Site, build_operator

    space = OperatorSpace((Site("s1", "spin", 2), Site("c", "boson", 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParameterError, match="hamiltonian: .* is not finite"):
            build_operator(text, space, params, "hamiltonian")
    assert capfd.readouterr().err == ""


@pytest.mark.slow
def test_declared_models_through_the_pipeline(tmp_path, snakemake_runner):
    """A markov and a lindblad study through snakemake: every job rebuilds the model from
    its name, and the datasets hold the dense reference values and the declared labels."""
    import yaml
    from test_declared_markov import BLOCK, _dense, _rates, _stationary

    from ness_core import dataset

    config = {"studies": {
        "cycle": {"model": "markov", "markov": BLOCK, "sweep": {"drive": [0.0, 2.0]},
                  "chunk_size": 1},
        "pair": {"model": "lindblad", "lindblad": SPIN_PAIR, "sweep": {"h": [0.0, 0.4]},
                 "fixed": {"J": 0.7},
                 "figures": [{"kind": "line", "x": "h", "y": ["expectation_magnetisation"]}]}}}
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    profile = Path(__file__).resolve().parents[1] / "workflow" / "profiles" / "default"
    result = snakemake_runner(tmp_path, configfile, "--workflow-profile", str(profile))
    assert result.returncode == 0, result.stderr[-3000:]
    cycle = dataset.read_netcdf(tmp_path / "results" / "cycle" / "dataset.nc")
    assert cycle.attrs["model"].startswith("markov:")
    for drive in (0.0, 2.0):
        rates = _rates(1.0, drive)
        p = _stationary(_dense(rates))
        assert float(cycle["current"].sel(drive=drive)) == pytest.approx(
            rates[0, 1] * p[0] - rates[1, 0] * p[1], abs=1e-10)
    pair = dataset.read_netcdf(tmp_path / "results" / "pair" / "dataset.nc")
    assert "declares no bath" in pair["entropy_production"].attrs["long_name"]
    for h in (0.0, 0.4):
        ham, jumps, mag, _ = _spin_pair(0.7, h, 1.0, 1.0)
        rho = _steady(_liouvillian(ham, jumps), 4)
        assert float(pair["expectation_magnetisation"].sel(h=h)) == pytest.approx(
            np.trace(mag @ rho).real, abs=1e-10)
    assert (tmp_path / "results" / "pair" / "figures").is_dir()
