"""ness_core: non-equilibrium steady states of driven systems — models, solvers, sweeps.

Public entry points: :func:`evaluate` (one parameter point of one model) and
:data:`MODELS` (the registry). Units: k_B = 1, hbar = 1 unless a model states otherwise.
"""

from ness_core.api import evaluate
from ness_core.errors import ParameterError
from ness_core.models import MODELS, get_model

__all__ = ["MODELS", "ParameterError", "evaluate", "get_model"]


def _stamped_version() -> str:
    """The version setuptools-scm stamped at build/install time (``ness_core/_version.py``,
    from git), else the installed distribution's metadata, else ``0+unknown``."""
    try:
        from ness_core._version import __version__ as version
    except ImportError:
        from importlib import metadata

        try:
            version = metadata.version("ness-sweep")
        except metadata.PackageNotFoundError:
            version = "0+unknown"
    return version


__version__ = _stamped_version()
