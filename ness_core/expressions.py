"""Arithmetic expressions of config files, read from their syntax tree and never ``eval``-ed.

One parser serves every declared model (reaction networks, Markov jump processes, Lindblad
models): a config value such as ``"k1 * exp(drive / temperature)"`` is parsed by
:func:`ast.parse` and walked over a whitelist of nodes — numbers, names of the study's
parameters, ``+ - * / **``, unary ``+``/``-`` and the functions ``exp``, ``log``, ``sqrt``.
Everything else (attribute access, subscripts, strings, other calls, lambdas, ...) is refused
with a :class:`ness_core.errors.ParameterError` that names the config key (``where``).

* :func:`parse_expression` — the guarded parse (length, ASCII, syntax, nesting) that every
  reader of expressions shares; :mod:`ness_core.operators` walks the same trees with
  operators as values.
* :func:`evaluate_node` — the numeric walker of one (sub)tree.
* :func:`evaluate_expression` — both, for a number or a text.
* :func:`canonical_expression` — the normal form stored in a model's name: a number as a
  float, an expression re-printed from its tree (so ``"k*2"`` and ``"k * 2"`` name the same
  model).
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping
from typing import Any

from ness_core.errors import ParameterError

MAX_EXPRESSION_LENGTH = 400  # characters
MAX_EXPONENT = 64.0  # |b| allowed in a ** b
FUNCTIONS = {"exp": math.exp, "log": math.log, "sqrt": math.sqrt}
_BINARY = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_ALLOWED = "numbers, parameter names, + - * / **, unary minus and exp, log, sqrt"


def check_ascii(text: str, where: str) -> None:
    """Refuse an expression with characters outside ASCII: Python folds identifiers by
    NFKC, so '𝓀1' would silently read as 'k1'."""
    if not text.isascii():
        raise ParameterError(f"{where}: {text!r} has characters outside ASCII; names are "
                             "ASCII letters, digits and _")


def parse_expression(text: str, where: str) -> ast.expr:
    """The syntax tree of ``text`` (its body), after the checks every expression shares.

    Raises
    ------
    ParameterError
        Naming ``where``, for an input longer than ``MAX_EXPRESSION_LENGTH``, characters
        outside ASCII, a syntax error, syntax warning (a number run into a keyword, as in
        ``1or 2``) or null byte, an overflowing literal, or nesting too deep for the parser.
    """
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ParameterError(f"{where}: expression longer than {MAX_EXPRESSION_LENGTH} characters")
    check_ascii(text, where)
    try:
        with warnings.catch_warnings():  # '1or 2': Python warns on stderr, we refuse it
            warnings.simplefilter("error", SyntaxWarning)
            return ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, SyntaxWarning, ValueError):  # ValueError: a null byte
        raise ParameterError(f"{where}: cannot parse {text!r}") from None
    except OverflowError:
        raise ParameterError(f"{where}: {text!r} overflows") from None
    except (RecursionError, MemoryError):
        raise ParameterError(f"{where}: {text!r} is nested too deeply") from None


def evaluate_expression(text: str | float, names: Mapping[str, float], where: str) -> float:
    """Value of an arithmetic expression, walked over a whitelisted AST (never ``eval``).

    Parameters
    ----------
    text : str or float
        For example ``"k1 * exp(drive / temperature)"``. A number is returned as a float.
    names : mapping of str to float
        Values of the names the expression may use.
    where : str
        Context for error messages, e.g. ``"reaction 'uptake', rate"``.

    Raises
    ------
    ParameterError
        On syntax outside ``_ALLOWED`` (attribute access, calls of other functions,
        subscripts, strings, ...), an unknown name, an exponent of magnitude above
        ``MAX_EXPONENT``, an input longer than ``MAX_EXPRESSION_LENGTH``, overflow, a math
        domain error or a non-finite result; the message names ``where``.
    """
    if isinstance(text, bool):
        raise ParameterError(f"{where}: {text!r} is not a number or an expression")
    if isinstance(text, int | float):
        return float(text)
    if not isinstance(text, str):
        raise ParameterError(f"{where}: {text!r} is not a number or an expression")
    value = evaluate_node(parse_expression(text, where), names, where, text)
    if not math.isfinite(value):
        raise ParameterError(f"{where}: {text!r} is not finite")
    return value


def evaluate_node(node: ast.AST, names: Mapping[str, float], where: str, text: str) -> float:
    """Value of one whitelisted (sub)tree of ``text``; errors as :func:`evaluate_expression`
    (the result may be inf or NaN: the caller checks finiteness)."""
    try:
        return _walk(node, names, where, text)
    except ParameterError:
        raise
    except (RecursionError, MemoryError):
        raise ParameterError(f"{where}: {text!r} is nested too deeply") from None
    except OverflowError:
        raise ParameterError(f"{where}: {text!r} overflows") from None
    except ZeroDivisionError:
        raise ParameterError(f"{where}: {text!r} divides by zero") from None
    except ValueError:
        raise ParameterError(f"{where}: {text!r} is outside the domain of exp/log/sqrt") from None


def _walk(node: ast.AST, names: Mapping[str, float], where: str, text: str) -> float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return float(node.value)
    if isinstance(node, ast.Name):
        if node.id not in names:
            known = ", ".join(sorted(names)) or "none"
            raise ParameterError(f"{where}: unknown name '{node.id}' in {text!r}; known: {known}")
        value = names[node.id]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ParameterError(f"{where}: '{node.id}' in {text!r} is {value!r}, not a number")
        return float(value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _walk(node.operand, names, where, text)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_walk(node.left, names, where, text),
                                      _walk(node.right, names, where, text))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        base = _walk(node.left, names, where, text)
        exponent = _walk(node.right, names, where, text)
        check_exponent(exponent, where, text)
        return float(base**exponent) if base >= 0 or exponent.is_integer() else math.nan
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id in FUNCTIONS and len(node.args) == 1 and not node.keywords):
        return FUNCTIONS[node.func.id](_walk(node.args[0], names, where, text))
    raise ParameterError(
        f"{where}: {type(node).__name__} is not allowed in {text!r}; allowed: {_ALLOWED}"
    )


def check_exponent(exponent: float, where: str, text: str) -> None:
    """Refuse ``a ** b`` with |b| above ``MAX_EXPONENT`` (``9 ** 9 ** 9`` never finishes)."""
    if abs(exponent) > MAX_EXPONENT:
        raise ParameterError(f"{where}: exponent {exponent:g} in {text!r} exceeds "
                             f"{MAX_EXPONENT:g}")


def canonical_expression(value: Any, where: str) -> float | str:
    """A number as float, or an expression re-printed from its syntax tree (canonical).

    ``"(6.0)"`` is the number 6.0. Raises :class:`ParameterError` for a value that is neither
    a finite number nor a parsable text (booleans included); names and the whitelist are
    checked when the expression is evaluated.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParameterError(f"{where}: {value!r} is not a number or an expression")
    if isinstance(value, str):
        tree = parse_expression(value, where)
        if not (isinstance(tree, ast.Constant) and type(tree.value) in (int, float)):
            return ast.unparse(tree)
        value = tree.value
    if not math.isfinite(value):
        raise ParameterError(f"{where}: {value!r} is not finite")
    return float(value)
