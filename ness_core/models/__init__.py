"""Registry of models: one file per physical system, one entry here per model."""

from __future__ import annotations

from ness_core.errors import ParameterError
from ness_core.model import Model, did_you_mean
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
    (:mod:`ness_core.models.network`), so every process can rebuild it.
    """
    if is_network_name(name):
        return network_model(name)
    if is_declared_name(name):  # markov:<JSON>, lindblad:<JSON> (ness_core.models.declared)
        return declared_model(name)
    try:
        return MODELS[name]
    except KeyError:
        raise ParameterError(
            f"unknown model '{name}';{did_you_mean(name, [*MODELS, 'network'])} "
            f"known models: {', '.join(sorted(MODELS))}, "
            "or network (a reaction network given in the study's network: block)"
        ) from None
