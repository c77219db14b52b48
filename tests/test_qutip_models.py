"""Lindblad models built from QuTiP-style code (ness_core.models.qutip_models).

Reference: resonance fluorescence of a driven two-level atom, H = −Δ a†a + (Ω/2)(a + a†),
c = √γ a on two levels: ⟨a†a⟩ = (Ω²/4)/(Δ² + γ²/4 + Ω²/2) (Mollow 1969), count rate γ⟨a†a⟩,
and on resonance the Liouvillian spectrum 0, −γ/2, −3γ/4 ± √(γ²/16 − Ω²), so the gap is γ/2
for Ω > γ/4. The same model is built from numpy arrays (always) and from QuTiP objects (when
QuTiP is installed; it is optional).
"""

from __future__ import annotations

import numpy as np
import pytest

from ness_core.errors import ParameterError
from ness_core.model import Parameter
from ness_core.models.qutip_models import qutip_lindblad_model

PARAMETERS = (Parameter("detuning", 0.0, "energy", "detuning Δ"),
              Parameter("drive", 1.0, "energy", "Rabi frequency Ω", axis="drive"),
              Parameter("gamma", 1.0, "1/time", "emission rate γ", low=0.0))


def _excited(detuning: float, drive: float, gamma: float) -> float:
    return (drive**2 / 4) / (detuning**2 + gamma**2 / 4 + drive**2 / 2)


def _check(model_class, detuning: float, drive: float, gamma: float) -> None:
    m = model_class()
    out = m.solve(m.resolve({"detuning": detuning, "drive": drive, "gamma": gamma}))
    assert out["status"] == "ok"
    assert out["expectation_excited"] == pytest.approx(_excited(detuning, drive, gamma),
                                                       abs=1e-12)
    assert out["current"] == pytest.approx(gamma * _excited(detuning, drive, gamma), abs=1e-12)
    if detuning == 0 and drive > gamma / 4:
        assert out["gap"] == pytest.approx(gamma / 2, abs=1e-10)
    assert np.isnan(out["entropy_production"])


@pytest.mark.parametrize("detuning, drive, gamma", [(0.0, 1.0, 1.0), (0.7, 2.0, 0.5)])
def test_a_model_from_array_operators_reproduces_resonance_fluorescence(detuning, drive, gamma):
    a = np.array([[0.0, 1.0], [0.0, 0.0]])  # |g⟩⟨e|, basis (g, e)

    def build(p):
        h = -p["detuning"] * a.T @ a + p["drive"] / 2 * (a + a.T)
        return h, [np.sqrt(p["gamma"]) * a]

    model = qutip_lindblad_model("atom", build, PARAMETERS,
                                 observables={"excited": lambda p: a.T @ a})  # or a callable
    _check(model, detuning, drive, gamma)


@pytest.mark.parametrize("detuning, drive, gamma", [(0.0, 1.0, 1.0), (0.7, 2.0, 0.5)])
def test_a_model_from_qutip_objects_reproduces_resonance_fluorescence(detuning, drive, gamma):
    qutip = pytest.importorskip("qutip", reason="QuTiP is optional and not installed")
    a = qutip.destroy(2)

    def build(p):
        h = -p["detuning"] * a.dag() * a + p["drive"] / 2 * (a + a.dag())
        return h, [np.sqrt(p["gamma"]) * a]

    model = qutip_lindblad_model("atom_qutip", build, PARAMETERS,
                                 observables={"excited": a.dag() * a})
    _check(model, detuning, drive, gamma)


def test_a_non_hermitian_hamiltonian_is_refused_by_check():
    a = np.array([[0.0, 1.0], [0.0, 0.0]])
    model = qutip_lindblad_model("bad", lambda p: (p["drive"] * a, [a]), PARAMETERS)()
    with pytest.raises(ParameterError, match="not Hermitian"):
        model.resolve({"drive": 1.0})
