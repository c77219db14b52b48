"""ness-sweep as a real package: a wheel (``pip install .``, not editable) works without the
checkout, carries its version and commit from build time, and records what produced a dataset.

The wheel is built from a clone of this repository with the working tree's files copied over
it (so uncommitted changes are in it, and git sees them), without build isolation, and
installed with ``--no-deps`` into a fresh venv that sees this environment's site-packages
through a ``.pth`` line: no network, a few seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from ness_core import provenance, resources

REPO = Path(__file__).resolve().parents[1]

SMALL_CONFIG = """\
studies:
  climate_small:
    model: climate
    sweep:
      drive: {start: 0, stop: 2, num: 3}
    figures:
      - {kind: line, x: drive, y: [current], caption: tur_heatmap_climate.rst}
"""


def _run(*cmd, cwd: Path, env: dict | None = None, check: bool = True):
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=300)
    if check:
        assert res.returncode == 0, f"{cmd}: {res.stdout[-2000:]} {res.stderr[-3000:]}"
    return res


def _source_tree(dest: Path, git: bool = True) -> Path:
    """A clone of REPO with the working tree's tracked and untracked (not ignored) files
    (``git=False``: those files alone, no repository)."""
    if git:
        _run("git", "clone", "--quiet", REPO, dest, cwd=dest.parent)
    files = _run("git", "ls-files", "-co", "--exclude-standard", "-z", cwd=REPO).stdout
    for name in filter(None, files.split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _build_wheel(source: Path, out: Path) -> Path:
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", out, source, cwd=source, env=_env())
    (wheel,) = out.glob("ness_sweep-*.whl")
    return wheel


def _venv_with(wheel: Path, where: Path) -> Path:
    """A venv holding ``wheel`` alone, seeing this environment's packages after its own."""
    venv.EnvBuilder(with_pip=False).create(where)
    python = where / "bin" / "python"
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                   cwd=where).stdout.strip()
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    # plain path lines: this environment's own .pth files (the editable ness_core) stay unread
    Path(purelib, "_parent_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel, cwd=where)
    return where / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(bin directory of a venv with the wheel installed, a directory outside any repo)."""
    base = tmp_path_factory.mktemp("package")
    wheel = _build_wheel(_source_tree(base / "src"), base / "dist")
    bin_dir = _venv_with(wheel, base / "venv")
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "small.yaml").write_text(SMALL_CONFIG)
    return bin_dir, elsewhere


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["GIT_CEILING_DIRECTORIES"] = "/"  # the temporary directory is in no repository
    return env


def _python(bin_dir: Path, code: str, cwd: Path) -> str:
    return _run(bin_dir / "python", "-c", code, cwd=cwd, env=_env()).stdout


def test_wheel_runs_ness_plan_and_point_outside_the_checkout(installed):
    bin_dir, elsewhere = installed
    where = _python(bin_dir, "import ness_core, ness_core.resources as r; "
                             "print(ness_core.__file__); print(r.SCHEMA)", elsewhere).split()
    assert not Path(where[0]).is_relative_to(REPO)  # the wheel's copy, not the checkout
    assert Path(where[1]).read_bytes() == (
        REPO / "workflow" / "schemas" / "config.schema.yaml").read_bytes()
    plan = _run(bin_dir / "ness", "plan", "small.yaml", "--json", cwd=elsewhere, env=_env())
    (study,) = json.loads(plan.stdout)["studies"]
    assert (study["study"], study["points"]) == ("climate_small", 3)
    point = _run(bin_dir / "ness", "point", "climate", "drive=1", "--json", cwd=elsewhere,
                 env=_env())
    assert json.loads(point.stdout)["status"] == "ok"
    version = _run(bin_dir / "ness", "--version", cwd=elsewhere, env=_env()).stdout.strip()
    stamped = _python(bin_dir, "from importlib import metadata; "
                               "print(metadata.version('ness-sweep'))", elsewhere).strip()
    assert version == f"ness-sweep {stamped}"


def test_wheel_ships_the_report_templates(installed):
    bin_dir, elsewhere = installed
    page = _python(bin_dir, "from ness_core import report; print(report.assemble_report("
                            "[], ['<section>one</section>']))", elsewhere)
    assert page.startswith("<!DOCTYPE html>") and "<section>one</section>" in page
    assert "nav#contents" in page  # the stylesheet, a template of its own


def test_ness_run_from_a_wheel_says_it_needs_the_checkout_in_one_line(installed):
    bin_dir, elsewhere = installed
    res = _run(bin_dir / "ness", "run", "small.yaml", cwd=elsewhere, env=_env(), check=False)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "checkout" in res.stderr


def test_wheel_stamps_version_and_commit_of_the_source_at_build_time(installed):
    bin_dir, elsewhere = installed
    got = json.loads(_python(bin_dir, "import json; from ness_core import provenance as p; "
                                      "print(json.dumps(p.provenance_attrs()))", elsewhere))
    head = _run("git", "rev-parse", "HEAD", cwd=REPO).stdout.strip()
    commit = got["git_commit"].removesuffix("-dirty")
    assert len(commit) >= 7 and head.startswith(commit)  # no git asked at run time
    versions = json.loads(got["package_versions"])
    assert got["code_version"] == f"ness-sweep {versions['ness-sweep']}, git {got['git_commit']}"
    assert "user_repository_commit" not in got  # the working directory is in no repository


def _runtime_requirements() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}


def test_wheel_built_without_git_has_the_fallback_version_and_no_commit(tmp_path):
    wheel = _build_wheel(_source_tree(tmp_path / "src", git=False), tmp_path / "dist")
    assert wheel.name.startswith("ness_sweep-0.1.0-")
    with zipfile.ZipFile(wheel) as archive:
        stamp = archive.read("ness_core/_version.py").decode()
    assert "__version__ = version = '0.1.0'" in stamp
    assert "__commit_id__ = commit_id = None" in stamp  # provenance: git_commit "unknown"


def _locked() -> dict[str, str]:
    """requirements.lock as {canonical name: pinned version}; every entry must be `==`."""
    pins = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins[canonicalize_name(req.name)] = spec.version
    return pins


def test_lock_pins_every_requirement_of_pyproject_within_its_bounds():
    """`make lock` was run after the last change of pyproject.toml's dependencies."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = _locked()
    for line in [*project["dependencies"],
                 *(r for reqs in project["optional-dependencies"].values() for r in reqs)]:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pins, f"{name} is not in requirements.lock: run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), (line, pins[name])


def test_package_versions_cover_every_runtime_dependency_recursively():
    versions = provenance.package_versions()
    assert versions["python"] == sys.version.split()[0]
    assert _runtime_requirements() <= versions.keys()
    for name in ("ness-sweep", "numpy", "snakemake", "jsonschema"):
        assert versions[canonicalize_name(name)] == metadata.version(name)
    # one level down: what the runtime dependencies need (here) is there too
    deeper = {canonicalize_name(Requirement(r).name) for r in metadata.requires("xarray")
              if Requirement(r).marker is None}
    assert deeper <= versions.keys()
    assert "pytest" not in versions  # test extra, not a runtime dependency


def test_user_repository_commit_and_dirty_flag(tmp_path):
    assert provenance.user_repository(tmp_path) == {}  # not a repository (yet)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    _run("git", "init", "--quiet", cwd=tmp_path, env=env)
    (tmp_path / "config.yaml").write_text("studies: {}\n")
    _run("git", "add", "config.yaml", cwd=tmp_path, env=env)
    _run("git", "commit", "--quiet", "-m", "study", cwd=tmp_path, env=env)
    head = _run("git", "rev-parse", "HEAD", cwd=tmp_path).stdout.strip()
    assert provenance.user_repository(tmp_path) == {"user_repository_commit": head,
                                                    "user_repository_dirty": "false"}
    (tmp_path / "config.yaml").write_text("studies: {a: 1}\n")
    assert provenance.user_repository(tmp_path)["user_repository_dirty"] == "true"


def test_checkout_reads_the_workflow_schema_and_asks_git_for_its_commit():
    assert resources.SNAKEFILE == REPO / "Snakefile"
    assert resources.SCHEMA == REPO / "workflow" / "schemas" / "config.schema.yaml"
    head = _run("git", "rev-parse", "HEAD", cwd=REPO).stdout.strip()
    assert provenance.code_commit().removesuffix("-dirty") == head


def test_every_subpackage_is_in_the_wheel():
    tool = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(REPO).parts)
             for p in (REPO / "ness_core").rglob("__init__.py")}
    assert found <= set(tool["packages"])
