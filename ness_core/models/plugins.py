"""Plugin models: installed packages register models under the entry-point group
``ness_sweep.models``.

A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."ness_sweep.models"]
    ring = "my_package.ring:Ring"

and the model ``ring`` is then in ``ness models``, ``ness point``, ``evaluate()`` and every
study config, exactly like a built-in one (docs/adding-a-model.md). Entry points are read
lazily (:mod:`importlib.metadata`, once per process) and a plugin is imported and checked
only when its name is selected, so a broken plugin never breaks the built-in models or the
other plugins: selecting it raises :class:`PluginError` naming the entry point and what is
wrong (import error, not a :class:`~ness_core.model.Model` subclass, a ``name`` other than
the entry point's, missing mandatory observables, a name clash with a built-in model), and
:func:`loadable_plugins` (``ness models``) warns once per bad plugin on stderr and lists the
rest.

A plugin model's point ids hash its distribution's name and version (:func:`provenance`),
so results of an upgraded plugin are recomputed; built-in ids do not change.
"""

from __future__ import annotations

import functools
import importlib.metadata as metadata
import sys
from collections.abc import Iterable, Mapping

from ness_core.errors import ParameterError
from ness_core.model import Model

GROUP = "ness_sweep.models"
# Model names the config gives their own meaning (declared forms); no plugin may take them.
RESERVED = ("network", "markov", "lindblad")
MANDATORY = ("current", "entropy_production", "gap")


class PluginError(ParameterError):
    """A plugin model that cannot be used; the message names its entry point and why."""


@functools.lru_cache(maxsize=1)
def entry_points() -> dict[str, metadata.EntryPoint]:
    """Every entry point of :data:`GROUP` by name (the first one found wins a duplicate)."""
    found: dict[str, metadata.EntryPoint] = {}
    for ep in metadata.entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def describe(ep: metadata.EntryPoint) -> str:
    """``entry point 'ring = pkg.mod:Ring' (dist 1.0)`` for messages."""
    dist = f" ({ep.dist.name} {ep.dist.version})" if ep.dist is not None else ""
    return f"entry point '{ep.name} = {ep.value}'{dist} in group {GROUP}"


def _check(ep: metadata.EntryPoint, obj: object, builtin: Iterable[str]) -> Model:
    """The model instance of a loaded entry point, or :class:`PluginError` saying why not."""
    where = describe(ep)
    if ep.name in set(builtin) | set(RESERVED):
        raise PluginError(f"{where}: the name '{ep.name}' is a built-in model; "
                          "a plugin needs a name of its own")
    if not (isinstance(obj, type) and issubclass(obj, Model)):
        raise PluginError(f"{where}: {obj!r} is not a subclass of ness_core.model.Model")
    if getattr(obj, "name", None) != ep.name:
        raise PluginError(f"{where}: the class's name is {getattr(obj, 'name', None)!r}, "
                          f"not the entry point's name '{ep.name}'")
    for attr in ("summary", "parameters", "observables"):
        if not hasattr(obj, attr):
            raise PluginError(f"{where}: the class does not declare '{attr}'")
    declared = {getattr(o, "name", None) for o in obj.observables}
    missing = [n for n in MANDATORY if n not in declared]
    if missing:
        raise PluginError(f"{where}: missing observables {', '.join(missing)} "
                          f"(every model declares {', '.join(MANDATORY)})")
    try:
        return obj()
    except Exception as exc:  # a constructor that fails is the plugin's bug, reported as such
        raise PluginError(f"{where}: {obj.__name__}() failed: {type(exc).__name__}: "
                          f"{exc}".splitlines()[0]) from None


_LOADED: dict[str, Model] = {}


def load(name: str, builtin: Mapping[str, Model]) -> Model | None:
    """The plugin model called ``name``, imported and checked once per process; ``None``
    if no entry point has that name. A bad plugin raises :class:`PluginError`."""
    if name in _LOADED:
        return _LOADED[name]
    ep = entry_points().get(name)
    if ep is None:
        return None
    try:
        obj = ep.load()
    except Exception as exc:  # ImportError, SyntaxError, AttributeError, ...: the plugin's
        raise PluginError(f"{describe(ep)}: cannot be imported: {type(exc).__name__}: "
                          f"{exc}".splitlines()[0]) from None
    _LOADED[name] = _check(ep, obj, builtin)
    return _LOADED[name]


def loadable_plugins(builtin: Mapping[str, Model]) -> dict[str, Model]:
    """Every plugin model that loads, by name; each bad one is one warning line on stderr."""
    out = {}
    for name in sorted(entry_points()):
        try:
            out[name] = load(name, builtin)
        except PluginError as exc:
            print(f"warning: skipping plugin model: {exc}", file=sys.stderr)
    return out


def provenance(name: str) -> str | None:
    """``"<distribution>==<version>"`` of the loaded plugin model ``name``, else ``None``."""
    ep = entry_points().get(name)
    if ep is None or name not in _LOADED:
        return None
    if ep.dist is None:
        return f"{ep.value}==unknown"
    return f"{ep.dist.name}=={ep.dist.version}"
