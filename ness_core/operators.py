"""Operator expressions of declared Lindblad models: sums of products of site operators.

A model declares its sites in order, ``{s1: spin, s2: spin, c: {boson: 12}}``; the Hilbert
space is their tensor product, the first site the leftmost Kronecker factor (basis state
index = s1 · d2 · d3 + s2 · d3 + c). An operator expression is the arithmetic of
:mod:`ness_core.expressions` with one more kind of value, a site operator ``site.op``:

* ``spin`` (two levels, basis |up⟩, |down⟩): Pauli ``sx``, ``sy``, ``sz`` with
  sz|up⟩ = +|up⟩, ``sp`` = |up⟩⟨down|, ``sm`` = |down⟩⟨up|;
* ``{boson: N}`` (Fock states 0 … N−1): ``a`` (a|n⟩ = √n |n−1⟩), ``ad`` = a† (truncated:
  ad|N−1⟩ = 0) and ``n`` = a†a;

combined by ``+ - *`` (``*`` of two operators is the matrix product, in the written order),
division by a scalar, integer powers ``op ** k`` (0 ≤ k ≤ ``MAX_OPERATOR_POWER``, a literal)
and ``dag(...)`` (the adjoint, for "+ h.c." terms). A scalar added to an operator stands for
that multiple of the identity. Coefficients are real expressions in the parameters, e.g.
``"J * (s1.sp * s2.sm + dag(s1.sp * s2.sm)) + h * s1.sz"``.

The text is parsed once (:func:`check_operator_expression`: unknown sites, operators, names
and constructs are refused naming the config key) and evaluated per parameter point into a
``scipy.sparse`` CSR matrix (:func:`build_operator`); nothing is ever ``eval``-ed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from ness_core.errors import ParameterError
from ness_core.expressions import FUNCTIONS, evaluate_node, parse_expression

MAX_OPERATOR_POWER = 16
MAX_BOSON_LEVELS = 10_000
ADJOINT = "dag"  # the one function of operators
_ALLOWED = ("numbers, parameter names, site operators site.op, + - * / **, unary minus, "
            f"exp, log, sqrt of numbers and {ADJOINT}(...)")


def _spin() -> dict[str, sp.csr_matrix]:
    sp_ = np.array([[0.0, 1.0], [0.0, 0.0]])  # |up⟩⟨down|, basis (up, down)
    ops = {"sx": np.array([[0.0, 1.0], [1.0, 0.0]]),
           "sy": np.array([[0.0, -1.0j], [1.0j, 0.0]]),
           "sz": np.diag([1.0, -1.0]), "sp": sp_, "sm": sp_.T}
    return {k: sp.csr_matrix(v, dtype=complex) for k, v in ops.items()}


def _boson(levels: int) -> dict[str, sp.csr_matrix]:
    a = sp.diags(np.sqrt(np.arange(1, levels)), 1, shape=(levels, levels), dtype=complex)
    return {"a": sp.csr_matrix(a), "ad": sp.csr_matrix(a.T),
            "n": sp.csr_matrix(sp.diags(np.arange(levels, dtype=complex)))}


SITE_KINDS = {"spin": ("sx", "sy", "sz", "sp", "sm"), "boson": ("a", "ad", "n")}


@dataclass(frozen=True)
class Site:
    """One tensor factor: ``kind`` ``"spin"`` (2 levels) or ``"boson"`` (``levels`` Fock
    states)."""

    name: str
    kind: str
    levels: int

    @cached_property
    def operators(self) -> dict[str, sp.csr_matrix]:
        """The site's own operators (``levels`` × ``levels``)."""
        return _spin() if self.kind == "spin" else _boson(self.levels)


def parse_site(name: str, entry: object, where: str) -> Site:
    """A site from its config form ``spin`` or ``{boson: N}`` (2 ≤ N ≤ MAX_BOSON_LEVELS)."""
    if entry == "spin":
        return Site(name, "spin", 2)
    if isinstance(entry, Mapping) and set(entry) == {"boson"}:
        levels = entry["boson"]
        if (isinstance(levels, int) and not isinstance(levels, bool)
                and 2 <= levels <= MAX_BOSON_LEVELS):
            return Site(name, "boson", levels)
    raise ParameterError(f"{where}: {entry!r} is not a site; expected spin or {{boson: N}} "
                         f"with an integer 2 <= N <= {MAX_BOSON_LEVELS}")


class OperatorSpace:
    """The tensor product of ``sites`` (in order) and their operators embedded in it."""

    def __init__(self, sites: tuple[Site, ...]):
        self.sites = {s.name: s for s in sites}
        self.dims = tuple(s.levels for s in sites)
        self.dimension = math.prod(self.dims)
        self._embedded: dict[tuple[str, str], sp.csr_matrix] = {}

    def identity(self) -> sp.csr_matrix:
        return sp.identity(self.dimension, dtype=complex, format="csr")

    def embedded(self, site: str, op: str) -> sp.csr_matrix:
        """I ⊗ … ⊗ op ⊗ … ⊗ I with ``op`` in the factor of ``site``."""
        key = (site, op)
        if key not in self._embedded:
            names = list(self.sites)
            k = names.index(site)
            left = math.prod(self.dims[:k])
            right = math.prod(self.dims[k + 1:])
            local = self.sites[site].operators[op]
            mat = sp.kron(sp.kron(sp.identity(left, format="csr"), local),
                          sp.identity(right, format="csr"), format="csr")
            self._embedded[key] = sp.csr_matrix(mat, dtype=complex)
        return self._embedded[key]


def check_operator_expression(text: object, sites: Mapping[str, Site],
                              parameters: set[str], where: str) -> str:
    """Canonical text of an operator expression after checking its structure.

    Raises
    ------
    ParameterError
        Naming ``where``: a non-string, text the shared parser refuses, an unknown site
        (listing the sites), an unknown operator of a site (listing its operators), an
        unknown name, a construct outside ``_ALLOWED``, a function of an operator other than
        ``dag``, division by an operator, or an operator power that is not a literal integer
        in [0, MAX_OPERATOR_POWER].
    """
    if isinstance(text, int | float) and not isinstance(text, bool) and math.isfinite(text):
        text = repr(float(text))  # a multiple of the identity
    if not isinstance(text, str):
        raise ParameterError(f"{where}: expected an operator expression (a string), got {text!r}")
    tree = parse_expression(text, where)
    try:
        _kind(tree, sites, parameters, where, text)
    except RecursionError:
        raise ParameterError(f"{where}: {text!r} is nested too deeply") from None
    return ast.unparse(tree)


def _kind(node: ast.AST, sites: Mapping[str, Site], parameters: set[str], where: str,
          text: str) -> str:
    """``"scalar"`` or ``"operator"``: the kind of value ``node`` has."""
    def kind(n: ast.AST) -> str:
        return _kind(n, sites, parameters, where, text)

    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return "scalar"
    if isinstance(node, ast.Name):
        if node.id in parameters:
            return "scalar"
        if node.id in sites:
            ops = ", ".join(SITE_KINDS[sites[node.id].kind])
            raise ParameterError(f"{where}: site '{node.id}' in {text!r} needs an operator, "
                                 f"{node.id}.op with op one of {ops}")
        raise ParameterError(f"{where}: unknown name '{node.id}' in {text!r}; parameters: "
                             f"{', '.join(sorted(parameters)) or 'none'}; sites: "
                             f"{', '.join(sites) or 'none'}")
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        site = sites.get(node.value.id)
        if site is None:
            raise ParameterError(f"{where}: unknown site '{node.value.id}' in {text!r}; "
                                 f"sites: {', '.join(sites) or 'none'}")
        if node.attr not in SITE_KINDS[site.kind]:
            raise ParameterError(f"{where}: site '{site.name}' ({site.kind}) has no operator "
                                 f"'{node.attr}'; operators: "
                                 f"{', '.join(SITE_KINDS[site.kind])}")
        return "operator"
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        return kind(node.operand)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult):
        return "operator" if "operator" in (kind(node.left), kind(node.right)) else "scalar"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        if kind(node.right) == "operator":
            raise ParameterError(f"{where}: division by an operator in {text!r}")
        return kind(node.left)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        if kind(node.right) == "operator":
            raise ParameterError(f"{where}: an operator exponent in {text!r}")
        if kind(node.left) == "scalar":
            return "scalar"
        power = node.right
        if not (isinstance(power, ast.Constant) and type(power.value) is int
                and 0 <= power.value <= MAX_OPERATOR_POWER):
            raise ParameterError(f"{where}: an operator power in {text!r} must be a literal "
                                 f"integer in [0, {MAX_OPERATOR_POWER}]")
        return "operator"
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in (*FUNCTIONS, ADJOINT) and len(node.args) == 1
            and not node.keywords):
        inner = kind(node.args[0])
        if inner == "operator" and node.func.id != ADJOINT:
            raise ParameterError(f"{where}: {node.func.id} of an operator in {text!r}; "
                                 f"functions of operators: {ADJOINT}")
        return inner
    raise ParameterError(f"{where}: {type(node).__name__} is not allowed in {text!r}; "
                         f"allowed: {_ALLOWED}")


def build_operator(text: str, space: OperatorSpace, params: Mapping[str, float],
                   where: str) -> sp.csr_matrix:
    """The sparse matrix of a checked operator expression at ``params``.

    Raises :class:`ParameterError` naming ``where`` if a coefficient cannot be evaluated
    (domain, division by zero, overflow) or the matrix has a non-finite entry.
    """
    tree = parse_expression(text, where)
    with np.errstate(over="ignore", invalid="ignore"):  # inf/NaN: refused below, no warning
        value = _value(tree, space, params, where, text)
        mat = value if sp.issparse(value) else value * space.identity()
    mat = sp.csr_matrix(mat, dtype=complex)
    mat.eliminate_zeros()
    if not np.all(np.isfinite(mat.data)):
        raise ParameterError(f"{where}: {text!r} is not finite at {dict(params)}")
    return mat


def _value(node: ast.AST, space: OperatorSpace, params: Mapping[str, float], where: str,
           text: str) -> float | sp.csr_matrix:
    if _kind(node, space.sites, set(params), where, text) == "scalar":
        return evaluate_node(node, params, where, text)

    def value(n: ast.AST) -> float | sp.csr_matrix:
        return _value(n, space, params, where, text)

    def as_matrix(x: float | sp.csr_matrix) -> sp.csr_matrix:
        return x if sp.issparse(x) else x * space.identity()

    if isinstance(node, ast.Attribute):
        return space.embedded(node.value.id, node.attr)
    if isinstance(node, ast.UnaryOp):
        inner = value(node.operand)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call):  # dag: the only function of an operator
        return sp.csr_matrix(value(node.args[0]).conj().T)
    left, right = value(node.left), value(node.right) if not isinstance(node.op, ast.Pow) else 0
    if isinstance(node.op, ast.Add):
        return as_matrix(left) + as_matrix(right)
    if isinstance(node.op, ast.Sub):
        return as_matrix(left) - as_matrix(right)
    if isinstance(node.op, ast.Mult):
        return left @ right if sp.issparse(left) and sp.issparse(right) else left * right
    if isinstance(node.op, ast.Div):
        if right == 0:
            raise ParameterError(f"{where}: {text!r} divides by zero")
        return left / right
    out = space.identity()  # ast.Pow with a literal integer power (checked)
    for _ in range(node.right.value):
        out = out @ left
    return out
