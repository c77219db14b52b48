"""What produced a dataset: package versions, ness-sweep's version and commit, your repository.

:func:`provenance_attrs` gives the global attrs :func:`ness_core.dataset.provenance` writes,
all strings (netCDF attrs):

- ``package_versions``: a JSON object, canonical distribution name (PEP 503: lower case,
  ``-``) → installed version, of ``ness-sweep`` and every distribution it needs at run
  time, recursively (:func:`package_versions`), plus ``"python"``;
- ``git_commit``: ness-sweep's own commit, ``-dirty`` appended for uncommitted changes, or
  ``unknown`` (:func:`code_commit`); ``code_version``: ``ness-sweep <version>, git <commit>``;
- ``user_repository_commit`` and ``user_repository_dirty`` (``"true"`` / ``"false"``): the
  commit of the git repository the run's working directory is in, and whether it has
  uncommitted changes (``git status --porcelain``); both absent outside a git repository
  (:func:`user_repository`).
"""

from __future__ import annotations

import json
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ness_core import __version__, resources

DISTRIBUTION = "ness-sweep"
GIT_TIMEOUT = 5.0  # seconds per git call; a slow or hung repository gives no record, not a hang


def package_versions(distribution: str = DISTRIBUTION) -> dict[str, str]:
    """``distribution`` and everything it requires at run time, recursively, with versions.

    Requirements are read from the installed metadata (``importlib.metadata.requires``);
    one whose environment marker is false here (another platform or Python, an extra not
    asked for) is left out; a dependency asked for with extras (``pkg[extra]``) brings that
    extra's requirements. A requirement that is not installed maps to ``"not installed"``.
    ``"python"`` is the interpreter's version. Keys are canonical names, sorted.
    """
    versions = {"python": platform.python_version()}
    todo = [(canonicalize_name(distribution), frozenset())]
    seen: set[tuple[str, str]] = set()
    while todo:
        name, extras = todo.pop()
        wanted = [e for e in ("", *sorted(extras)) if (name, e) not in seen]
        if not wanted:
            continue
        seen.update((name, e) for e in wanted)
        try:
            versions[name] = metadata.version(name)
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in wanted):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return dict(sorted(versions.items()))


def _git(directory: Path, *args: str) -> str | None:
    """stdout of ``git args`` run in ``directory``, or ``None`` (no git, not a repository,
    an error, or slower than :data:`GIT_TIMEOUT`)."""
    try:
        res = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True,
                             timeout=GIT_TIMEOUT, check=True, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout


def _repository_state(directory: Path) -> tuple[str, bool | None] | None:
    """(HEAD commit, dirty) of the git repository holding ``directory``, or ``None``; dirty
    is ``None`` when ``git status`` does not answer in time."""
    head = _git(directory, "rev-parse", "--verify", "--quiet", "HEAD")
    if not head or not head.strip():
        return None
    status = _git(directory, "status", "--porcelain")
    return head.strip(), None if status is None else bool(status.strip())


def code_commit() -> str:
    """ness-sweep's commit, ``-dirty`` appended for uncommitted changes, or ``unknown``.

    From a checkout (``pip install -e .``: the Snakefile is beside the package) git is asked
    at run time, since the checkout may have moved on since it was installed; otherwise the
    commit setuptools-scm stamped into ``ness_core/_version.py`` at build time (abbreviated;
    dirty when the version's local part carries the ``.d<date>`` of a dirty tree).
    """
    if resources.SNAKEFILE is not None:
        state = _repository_state(resources.SNAKEFILE.parent)
        if state is not None:
            return state[0] + ("-dirty" if state[1] else "")
    try:
        from ness_core._version import __commit_id__ as stamped
        from ness_core._version import __version__ as version
    except ImportError:
        return "unknown"
    if not stamped:
        return "unknown"
    dirty = re.search(r"\+.*\bd\d{8}$", version) is not None
    return stamped.removeprefix("g") + ("-dirty" if dirty else "")


def user_repository(directory: str | Path = ".") -> dict[str, str]:
    """``user_repository_commit`` and ``user_repository_dirty`` of the git repository holding
    ``directory`` (the run's working directory), or ``{}`` outside one."""
    state = _repository_state(Path(directory))
    if state is None:
        return {}
    dirty = "unknown" if state[1] is None else str(state[1]).lower()
    return {"user_repository_commit": state[0], "user_repository_dirty": dirty}


def provenance_attrs(directory: str | Path = ".") -> dict[str, str]:
    """The provenance attrs of a dataset made now, in ``directory`` (module docstring)."""
    versions = package_versions()
    version = versions.get(DISTRIBUTION)
    if version in (None, "not installed"):  # running from a tree that was never installed
        version = versions[DISTRIBUTION] = __version__
    commit = code_commit()
    code = f"ness-sweep {version}" + ("" if commit == "unknown" else f", git {commit}")
    return {"package_versions": json.dumps(versions), "git_commit": commit,
            "code_version": code, **user_repository(directory)}
