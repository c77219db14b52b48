"""Registry of models: one file per physical system, one entry here per model.

Installed packages add models through the entry-point group ``ness_sweep.models``
(:mod:`ness_core.models.plugins`); built-in names always win.
"""

from __future__ import annotations

from ness_core.errors import ParameterError
from ness_core.model import Model, did_you_mean
from ness_core.models import plugins
from ness_core.models.asep import Asep
from ness_core.models.chaperone import Chaperone
from ness_core.models.chemostat import Chemostat
from ness_core.models.climate import Climate
from ness_core.models.corrosion import Corrosion
from ness_core.models.declared import declared_model, is_declared_name
from ness_core.models.harmonic_chain import HarmonicChain
from ness_core.models.kerr import Kerr
from ness_core.models.network import is_network_name, network_model
from ness_core.models.plasma import Plasma
from ness_core.models.qubit import Qubit
from ness_core.models.wire import Wire
from ness_core.models.xxz import Xxz

MODELS: dict[str, Model] = {
    m.name: m() for m in (Climate, Asep, Wire, HarmonicChain, Plasma, Qubit, Kerr, Xxz, Chaperone,
                          Chemostat, Corrosion)
}


def get_model(name: str) -> Model:
    """The registered model called ``name``; unknown names raise :class:`ParameterError`.

    A name ``network:<JSON>`` is a user-defined reaction network, built from the name itself
    (:mod:`ness_core.models.network`), so every process can rebuild it. Any other name not
    built in is looked up among the plugin models (:func:`plugins.load`); a bad plugin
    raises :class:`plugins.PluginError` naming its entry point.
    """
    if is_network_name(name):
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
