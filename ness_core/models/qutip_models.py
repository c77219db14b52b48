"""Lindblad models from QuTiP code: a function ``params -> (H, c_ops)`` becomes a model.

A plugin author with an existing QuTiP model writes::

    import qutip
    from ness_core.model import Parameter
    from ness_core.models.qutip_models import qutip_lindblad_model

    def kerr(params):
        a = qutip.destroy(20)
        h = -params["detuning"] * a.dag() * a + params["F"] * (a + a.dag())
        return h, [params["kappa"] ** 0.5 * a]

    Kerr = qutip_lindblad_model(
        "my_kerr", kerr,
        parameters=(Parameter("detuning", 0.0, "energy", "detuning"),
                    Parameter("F", 1.0, "energy", "drive amplitude", axis="drive"),
                    Parameter("kappa", 1.0, "1/time", "loss rate", low=0.0)),
        observables={"photons": qutip.num(20)})

and registers ``Kerr`` as a plugin model; a study then sweeps it through the pipeline and
the NESS, gap and counting statistics come from the Lindblad solver
(:mod:`ness_core.solvers.lindblad` and its ``lindblad_*`` modules: sparse LU on the
vectorised Liouvillian), not from QuTiP's solvers. QuTiP is optional: the operators
may be QuTiP ``Qobj`` (QuTiP 4 or 5), scipy sparse matrices or numpy arrays; QuTiP is never
imported here. Conventions are those of :mod:`ness_core.models.lindblad_declared`: the
collapse operators carry their rates (L = √γ c, QuTiP's convention), ``current`` is the
count rate Tr(L ρ L†) of ``c_ops[current]``, ``expectation_<name>`` = Re Tr(O ρ). The
collapse operators say nothing about baths, so ``entropy_production`` is NaN (its
``long_name`` says so).

Measured (one loaded 2-core machine, QuTiP 5.3.1): a Kerr resonator on 80 Fock levels,
steady state and gap here 0.10 s; QuTiP's ``steadystate`` 0.04 s, and its Liouvillian gap by
sparse ``eigenenergies`` 202 s (the same gap, 0.0147786895, to 10 digits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from ness_core.errors import ParameterError
from ness_core.model import Model, Observable, Parameter, fluctuation_observables
from ness_core.models.declared import FLUCTUATIONS
from ness_core.models.lindblad_declared import HERMITIAN_RTOL, lindblad_outputs
from ness_core.solvers.markov_counting import current_fluctuations


def to_sparse(operator: Any, where: str) -> sp.csr_matrix:
    """A complex CSR matrix from a QuTiP ``Qobj`` (4 or 5), a scipy sparse matrix or an
    array; TypeError naming ``where`` for anything else."""
    if sp.issparse(operator) or isinstance(operator, np.ndarray):
        return sp.csr_matrix(operator, dtype=complex)
    if callable(getattr(operator, "data_as", None)):  # QuTiP 5
        return sp.csr_matrix(operator.to("CSR").data_as("csr_matrix"), dtype=complex)
    if sp.issparse(getattr(operator, "data", None)):  # QuTiP 4: data is a CSR matrix
        return sp.csr_matrix(operator.data, dtype=complex)
    if callable(getattr(operator, "full", None)):
        return sp.csr_matrix(np.asarray(operator.full()), dtype=complex)
    raise TypeError(f"{where}: {type(operator).__name__} is not an operator (expected a QuTiP "
                    "Qobj, a scipy sparse matrix or a numpy array)")


def _is_operator(value: Any) -> bool:
    """Whether ``value`` is an operator (a QuTiP ``Qobj`` is callable too)."""
    return sp.issparse(value) or isinstance(value, np.ndarray) or hasattr(value, "full")


def qutip_lindblad_model(name: str, build: Callable[[dict[str, Any]], tuple[Any, Sequence]],
                         parameters: Sequence[Parameter], *, current: int = 0,
                         observables: Mapping[str, Any] | None = None,
                         summary: str = "Lindblad model built from QuTiP operators",
                         ) -> type[Model]:
    """A :class:`ness_core.model.Model` subclass solving the NESS of ``build(params)``.

    Parameters
    ----------
    name : str
        Registry name of the model.
    build : callable
        ``params -> (H, c_ops)``: the Hamiltonian and the collapse operators (rates
        included) at one parameter point (a dict with every parameter).
    parameters : sequence of Parameter
        The model's inputs; ``fluctuations`` (counting statistics on or off) is added.
    current : int, default 0
        Index in ``c_ops`` of the jump whose count rate is ``current``.
    observables : mapping of str to operator or callable, optional
        ``expectation_<name>`` for each: an operator, or ``params -> operator``.
    summary : str
        One line for ``ness models``.

    The returned class checks in ``check(params)`` (run on every sweep point before any job)
    that H is square and Hermitian and every operator has its shape, raising
    :class:`ParameterError`; the solve itself is :func:`lindblad_outputs`.
    """
    observables = dict(observables or {})
    params_tuple = tuple(parameters)
    if "fluctuations" not in {p.name for p in params_tuple}:
        params_tuple += (FLUCTUATIONS,)

    def operators(self: Model, params: dict[str, Any]
                  ) -> tuple[sp.csr_matrix, list[sp.csr_matrix], dict[str, sp.csr_matrix]]:
        h, c_ops = build(dict(params))
        h = to_sparse(h, f"model '{name}', H")
        jumps = [to_sparse(c, f"model '{name}', c_ops[{i}]") for i, c in enumerate(c_ops)]
        ops = {n: to_sparse(o(dict(params)) if callable(o) and not _is_operator(o) else o,
                            f"model '{name}', observable '{n}'")
               for n, o in observables.items()}
        n = h.shape[0]
        for what, op in [("H", h), *((f"c_ops[{i}]", j) for i, j in enumerate(jumps)),
                         *((f"observable '{k}'", o) for k, o in ops.items())]:
            if op.shape != (n, n):
                raise ParameterError(f"model '{name}': {what} has shape {op.shape}, "
                                     f"expected {(n, n)}")
        scale = max(1.0, float(np.max(np.abs(h.data), initial=0.0)))
        if np.max(np.abs((h - h.conj().T).data), initial=0.0) > HERMITIAN_RTOL * scale:
            raise ParameterError(f"model '{name}': H is not Hermitian at {dict(params)}")
        if not 0 <= current < len(jumps):
            raise ParameterError(f"model '{name}': current = {current} but there are "
                                 f"{len(jumps)} collapse operators")
        return h, jumps, ops

    def check(self: Model, params: dict[str, Any]) -> None:
        self.operators(params)

    def solve(self: Model, params: dict[str, Any]) -> dict[str, Any]:
        h, jumps, ops = self.operators(params)
        out, _ = lindblad_outputs(h, jumps, current, ops, params["fluctuations"])
        out["entropy_production"] = float("nan")
        out.update(current_fluctuations(out["current"], out.pop("variance"), float("nan")))
        return out

    observables_tuple = (
        Observable("current", "1/time", f"count rate of collapse operator {current}"),
        Observable("entropy_production", "k_B/time",
                   "entropy production (NaN: collapse operators declare no baths)"),
        Observable("gap", "1/time", "Liouvillian gap"),
        Observable("gap_imag", "1/time", "oscillation frequency of the slowest mode"),
        *(Observable(f"expectation_{n}", "1", f"Re Tr({n} ρ)") for n in observables),
        *fluctuation_observables(f"count of collapse operator {current}"),
    )
    return type("QutipLindbladModel", (Model,), {
        "name": name, "summary": summary, "parameters": params_tuple,
        "observables": observables_tuple, "operators": operators, "check": check,
        "solve": solve,
        "__doc__": f"Lindblad model '{name}' from QuTiP operators "
                   "(ness_core.models.qutip_models)."})
