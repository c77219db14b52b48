"""ness_core: non-equilibrium steady states of driven systems — models, solvers, sweeps.

Public entry points: :func:`evaluate` (one parameter point of one model) and
:data:`MODELS` (the registry). Units: k_B = 1, hbar = 1 unless a model states otherwise.
"""

from ness_core.api import evaluate
from ness_core.errors import ParameterError
from ness_core.models import MODELS, get_model

__all__ = ["MODELS", "ParameterError", "evaluate", "get_model"]
__version__ = "0.1.0"
