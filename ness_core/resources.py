"""Where the library finds the workflow's files: the config schema, the captions, the Snakefile.

In a checkout (``pip install -e .`` or ``PYTHONPATH``) they are the checkout's own
``workflow/schemas/config.schema.yaml``, ``workflow/report/`` and ``Snakefile``, the files the
workflow reads. A wheel (``pip install .``) has no workflow; it carries copies of the schema
and the captions made from those same files at build time (``pyproject.toml`` maps
``workflow/`` to ``ness_core/_workflow/``, schemas and captions only), so ``ness plan`` gives
the workflow's verdict, and :data:`SNAKEFILE` is ``None``: ``ness run`` needs a checkout.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent

#: The Snakefile beside the package (a checkout), or ``None`` (an installed wheel).
SNAKEFILE: Path | None = (_CHECKOUT / "Snakefile"
                          if (_CHECKOUT / "Snakefile").is_file()
                          and (_CHECKOUT / "workflow" / "schemas").is_dir() else None)
#: The workflow directory whose ``schemas/`` and ``report/`` the library reads.
WORKFLOW: Path = _CHECKOUT / "workflow" if SNAKEFILE else _PACKAGE / "_workflow"
#: The config schema (JSON Schema in YAML); captions are ``WORKFLOW / "report"``.
SCHEMA: Path = WORKFLOW / "schemas" / "config.schema.yaml"
