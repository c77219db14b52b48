"""Registry of models: one file per physical system, one entry here per model.

:data:`MODELS` maps each built-in name to its model instance. A model's module is imported
(and its class instantiated) the first time its name is looked up, so ``import ness_core``
and a job that runs one model import only that model and its solver: listing the names,
``name in MODELS`` and ``len(MODELS)`` import nothing; ``MODELS.items()`` imports them all.

Installed packages add models through the entry-point group ``ness_sweep.models``
(:mod:`ness_core.models.plugins`); built-in names always win.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator, Mapping

from ness_core.errors import ParameterError
from ness_core.model import Model, did_you_mean
from ness_core.models import plugins
from ness_core.models.declared import declared_model, is_declared_name

# name -> "module:Class" of every built-in model, in the order `ness models` lists them
BUILTIN: dict[str, str] = {
    "climate": "ness_core.models.climate:Climate",
    "asep": "ness_core.models.asep:Asep",
    "wire": "ness_core.models.wire:Wire",
    "harmonic_chain": "ness_core.models.harmonic_chain:HarmonicChain",
    "plasma": "ness_core.models.plasma:Plasma",
    "qubit": "ness_core.models.qubit:Qubit",
    "kerr": "ness_core.models.kerr:Kerr",
    "xxz": "ness_core.models.xxz:Xxz",
    "chaperone": "ness_core.models.chaperone:Chaperone",
    "chemostat": "ness_core.models.chemostat:Chemostat",
    "corrosion": "ness_core.models.corrosion:Corrosion",
}


class Registry(Mapping[str, Model]):
    """Read-only mapping name -> model instance over ``"module:Class"`` paths, importing a
    module and instantiating its class on the first lookup of its name (once per process;
    two threads racing on the first lookup get the same instance)."""

    def __init__(self, paths: Mapping[str, str]) -> None:
        self._paths = dict(paths)
        self._models: dict[str, Model] = {}

    def __getitem__(self, name: str) -> Model:
        model = self._models.get(name)
        if model is None:
            module, _, cls = self._paths[name].partition(":")  # KeyError for an unknown name
            model = self._models.setdefault(name, getattr(importlib.import_module(module),
                                                          cls)())
        return model

    def __contains__(self, name: object) -> bool:
        return name in self._paths

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)

    def __repr__(self) -> str:
        return f"Registry({', '.join(self._paths)})"


MODELS: Registry = Registry(BUILTIN)


def short_name(name: str) -> str:
    """``<kind>#<8 hex digits of its hash>`` for a model named by its declared block
    (``network:``, ``markov:``, ``lindblad:``; tables, logs); other names unchanged."""
    kind, sep, _ = name.partition(":")
    if not sep or kind not in plugins.RESERVED:
        return name
    return kind + "#" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()


def get_model(name: str) -> Model:
    """The registered model called ``name``; unknown names raise :class:`ParameterError`.

    A name ``network:<JSON>`` is a user-defined reaction network, built from the name itself
    (:mod:`ness_core.models.network`), so every process can rebuild it. Any other name not
    built in is looked up among the plugin models (:func:`plugins.load`); a bad plugin
    raises :class:`plugins.PluginError` naming its entry point.
    """
    if isinstance(name, str) and name.startswith("network:"):  # network.PREFIX
        from ness_core.models.network import network_model  # imports the network solvers

        return network_model(name)
    if is_declared_name(name):  # markov:<JSON>, lindblad:<JSON> (ness_core.models.declared)
        return declared_model(name)
    if isinstance(name, str):
        if name in MODELS:
            return MODELS[name]
        plugin = plugins.load(name, MODELS)  # None if no plugin has this name
        if plugin is not None:
            return plugin
    known = sorted([*MODELS, *plugins.entry_points()])
    raise ParameterError(
        f"unknown model '{name}';{did_you_mean(str(name), [*known, 'network'])} "
        f"known models: {', '.join(known)}, "
        "or network (a reaction network given in the study's network: block)"
    )


def all_models() -> dict[str, Model]:
    """Built-in models and every plugin model that loads (a bad plugin: one warning line)."""
    return {**MODELS, **plugins.loadable_plugins(MODELS)}


def plugin_provenance(name: str) -> str | None:
    """``"<distribution>==<version>"`` of a plugin model, ``None`` for a built-in one."""
    return None if name in MODELS else plugins.provenance(name)
