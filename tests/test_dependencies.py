"""One list of dependencies: pyproject.toml's, mirrored by environment.yml (everything, for
`conda env create`) and workflow/envs/ness.yaml (the runtime, for rules run with conda), with
the same lower bounds; and config/README.md documents every key of the config schema."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names where they differ from PyPI's (the rule env needs no Snakemake CLI extras)
CONDA_NAME = {"snakemake": "snakemake-minimal"}


def _requirements(lines) -> dict[str, str]:
    """name (lower case) → version specifier, e.g. {'numpy': '>=1.26'}."""
    out = {}
    for line in lines:
        if not isinstance(line, str):
            continue
        match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*(.*?)\s*", line)
        if match:
            out[match.group(1).lower()] = match.group(2).replace(" ", "")
    return out


def _pyproject() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = {name: _requirements(reqs)
              for name, reqs in project.get("optional-dependencies", {}).items()}
    return _requirements(project["dependencies"]), extras


def _conda(path: Path) -> dict[str, str]:
    deps = yaml.safe_load(path.read_text())["dependencies"]
    return {k: v for k, v in _requirements(deps).items() if k not in ("python", "pip")}


def test_environment_yml_lists_every_dependency_with_the_same_bound():
    runtime, extras = _pyproject()
    wanted = {**runtime, **{k: v for reqs in extras.values() for k, v in reqs.items()}}
    assert _conda(ROOT / "environment.yml") == wanted


def test_rule_environment_lists_the_runtime_dependencies_with_the_same_bound():
    runtime, _ = _pyproject()
    wanted = {CONDA_NAME.get(k, k): v for k, v in runtime.items()}
    assert _conda(ROOT / "workflow" / "envs" / "ness.yaml") == wanted


def _schema_keys(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        found |= set(node.get("properties", {}))
        for value in node.values():
            _schema_keys(value, found)
    elif isinstance(node, list):
        for value in node:
            _schema_keys(value, found)
    return found


def test_config_readme_documents_every_schema_key():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    documented = set(re.findall(r"^\| `([A-Za-z_0-9]+)` \|",
                                (ROOT / "config" / "README.md").read_text(), re.MULTILINE))
    assert _schema_keys(schema, set()) - documented == set()
