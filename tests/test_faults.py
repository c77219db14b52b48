"""Faults are detected and recovered, nothing lost: corrupt chunk results and manifests, a
full disk, a read-only results/ directory, and file modes that follow the umask."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from ness_core import chunk_files, cli, configs, dataset, sweep

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))
# two chunks of four climate points; GROWN adds a third temperature (a third chunk), so a
# run of GROWN gathers the dataset again from all chunks
SMALL = {"model": "climate", "chunk_size": 4,
         "sweep": {"drive": {"start": 0.0, "stop": 3.0, "num": 4}, "temperature": [0.5, 1.0]}}
GROWN = {**SMALL, "sweep": {**SMALL["sweep"], "temperature": [0.5, 1.0, 2.0]}}


def write_config(workdir: Path, study: dict, name: str = "config.yaml") -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / name
    path.write_text(yaml.safe_dump({"studies": {"faults": study}}, sort_keys=False))
    return path


def run(workdir: Path, configfile: Path, *args: str, **kwargs) -> subprocess.CompletedProcess:
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), "--cores", "2", *PROFILE, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kwargs)


def chunks_dir(workdir: Path) -> Path:
    return workdir / "results" / "faults" / "chunks"


def dataset_of(workdir: Path) -> xr.Dataset:
    return dataset.read_netcdf(workdir / "results" / "faults" / "dataset.nc").drop_attrs()


def small_chunks(directory: Path) -> tuple[configs.Study, list[sweep.Chunk]]:
    """Plan and compute SMALL in ``directory`` as the rules do (digests beside results)."""
    study = configs.parse_study("faults", SMALL)
    chunks = sweep.plan_study(study, directory)
    for chunk in chunks:
        manifest = sweep.read_manifest(directory / f"{chunk.id}.json")
        dataset.write_netcdf(dataset.compute_chunk(manifest), directory / f"{chunk.id}.nc",
                             digest=True)
    return study, chunks


def zero_in_place(path: Path) -> None:
    """Overwrite every byte with 0, keeping the size (a lost block on a shared disk)."""
    size = path.stat().st_size
    with open(path, "r+b") as fh:
        fh.write(bytes(size))


def truncate(path: Path) -> None:
    with open(path, "r+b") as fh:
        fh.truncate(path.stat().st_size // 3)


# --- chunk verification (unit) --------------------------------------------------------------

@pytest.mark.parametrize("damage", [truncate, zero_in_place], ids=["truncated", "zeroed"])
def test_a_damaged_chunk_result_is_not_computed_and_is_moved_aside(tmp_path, damage, capsys):
    study, chunks = small_chunks(tmp_path)
    bad = tmp_path / f"{chunks[0].id}.nc"
    damage(bad)
    manifests, computed = chunk_files.existing_chunks(tmp_path)  # ness plan: reports only
    assert computed == {chunks[1].id} and bad.exists()
    assert str(bad) in capsys.readouterr().err
    replanned = sweep.plan_study(study, tmp_path)  # a run: moves it aside, never deletes
    assert [c.id for c in replanned] == [c.id for c in chunks]
    assert not bad.exists() and bad.with_name(bad.name + ".corrupt").exists()
    assert f"moved aside to {bad.name}.corrupt" in capsys.readouterr().err
    assert chunk_files.existing_chunks(tmp_path)[1] == {chunks[1].id}


def test_an_intact_chunk_costs_a_stat_once_its_digest_has_its_mtime(tmp_path, monkeypatch):
    _, chunks = small_chunks(tmp_path)
    path = tmp_path / f"{chunks[0].id}.nc"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # touched
    reads = []
    real = chunk_files.file_digest
    monkeypatch.setattr(chunk_files, "file_digest", lambda p: reads.append(p) or real(p))
    assert chunk_files.verify_chunk(path, [], update=True) is None
    assert reads == [path]  # changed mtime: read once, the digest file takes the new mtime
    assert chunk_files.verify_chunk(path, []) is None
    assert reads == [path]  # then a stat
    assert chunk_files.verify_chunk(path, [], full=True) is None and len(reads) == 2


def test_a_chunk_without_digest_is_checked_against_its_manifest_point_ids(tmp_path):
    _, chunks = small_chunks(tmp_path)
    path = tmp_path / f"{chunks[0].id}.nc"
    chunk_files.digest_path(path).unlink()
    ids = [p.id for p in chunks[0].points]
    assert chunk_files.verify_chunk(path, ids[1:]) == "its point ids differ from its manifest's"
    assert chunk_files.verify_chunk(path, ids, update=True) is None
    assert chunk_files.digest_path(path).exists()  # written for the next check
    chunk_files.digest_path(path).unlink()
    zero_in_place(path)
    assert chunk_files.verify_chunk(path, ids).startswith("unreadable")


def test_a_garbage_manifest_is_named_moved_aside_and_planned_again(tmp_path, capsys):
    study, chunks = small_chunks(tmp_path)
    manifest = tmp_path / f"{chunks[0].id}.json"
    manifest.write_text("{not json")
    replanned = sweep.plan_study(study, tmp_path)
    err = capsys.readouterr().err
    assert str(manifest) in err and "unreadable" in err
    assert manifest.with_name(manifest.name + ".corrupt").read_text() == "{not json"
    assert [c.id for c in replanned] == [c.id for c in chunks]
    assert sweep.read_manifest(manifest)["chunk"] == chunks[0].id  # rebuilt


def test_ness_plan_counts_a_corrupt_chunk_as_to_compute_without_traceback(tmp_path, capsys):
    configfile = write_config(tmp_path, SMALL)
    _, chunks = small_chunks(chunks_dir(tmp_path))
    truncate(chunks_dir(tmp_path) / f"{chunks[0].id}.nc")
    assert cli.main(["plan", str(configfile), "-d", str(tmp_path), "--json"]) == 0
    out, err = capsys.readouterr()
    plan = json.loads(out)["studies"][0]
    assert plan["finished_jobs"] == 1 and plan["finished_points"] == 4
    assert f"{chunks[0].id}.nc is corrupt" in err and "Traceback" not in err
    assert (chunks_dir(tmp_path) / f"{chunks[0].id}.nc").exists()  # plan writes nothing


def test_peak_memory_skips_unreadable_chunk_files(tmp_path):
    _, chunks = small_chunks(tmp_path)
    paths = [tmp_path / f"{c.id}.nc" for c in chunks]
    zero_in_place(paths[0])
    assert chunk_files.peak_memory_mb(paths) is None  # compute_chunk records no peak
    assert chunk_files.peak_memory_mb([tmp_path / "missing.nc"]) is None


# --- full disk, unwritable directory (unit) --------------------------------------------------

def _dataset() -> xr.Dataset:
    return xr.Dataset({"current": ("point", np.arange(3.0))})


def test_a_full_disk_names_the_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    def no_space(self, path, **kwargs):
        Path(path).write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", no_space)
    target = tmp_path / "results" / "dataset.nc"
    with pytest.raises(chunk_files.DiskFullError) as info:
        dataset.write_netcdf(_dataset(), target)
    assert str(info.value).startswith("no space left on device") and str(target) in str(info.value)
    assert info.value.errno == errno.ENOSPC
    assert list(target.parent.iterdir()) == []


def test_an_hdf_error_on_a_full_disk_is_a_full_disk(tmp_path, monkeypatch):
    """HDF5 reports a full disk as ``RuntimeError: NetCDF: HDF error``: judged by free space."""

    def hdf_error(self, path, **kwargs):
        raise RuntimeError("NetCDF: HDF error")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", hdf_error)
    monkeypatch.setattr(chunk_files, "free_bytes", lambda d: 4096)
    with pytest.raises(chunk_files.DiskFullError, match="no space left on device"):
        dataset.write_netcdf(_dataset(), tmp_path / "a.nc")
    monkeypatch.setattr(chunk_files, "free_bytes", lambda d: 10 * 2**30)
    with pytest.raises(RuntimeError, match="HDF error"):  # not for lack of space
        dataset.write_netcdf(_dataset(), tmp_path / "a.nc")


def test_a_job_checks_free_space_before_computing(tmp_path, monkeypatch):
    monkeypatch.setattr(chunk_files, "free_bytes", lambda d: 1000)
    with pytest.raises(chunk_files.DiskFullError, match="no space left on device") as info:
        chunk_files.check_free_space(tmp_path / "chunks")
    assert str(tmp_path / "chunks") in str(info.value)
    with pytest.raises(chunk_files.DiskFullError, match=str(tmp_path / "m.json")):
        chunk_files.write_json_atomic(tmp_path / "m.json", {"points": [0] * 1000})


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_outputs_follow_the_umask(tmp_path, umask_022):
    chunk_files.write_json_atomic(tmp_path / "m.json", {})
    dataset.write_netcdf(_dataset(), tmp_path / "c.nc", digest=True)
    for name in ("m.json", "c.nc", "c.nc.digest"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644, name
    os.umask(0o027)
    chunk_files.atomic_write(tmp_path / "r.html", "<p>")
    assert stat.S_IMODE((tmp_path / "r.html").stat().st_mode) == 0o640


# --- the workflow -----------------------------------------------------------------------------

pipeline = pytest.mark.slow


@pipeline
def test_corrupt_chunks_are_recomputed_and_the_dataset_is_never_lost(tmp_path):
    reference_dir = tmp_path / "reference"
    assert run(reference_dir, write_config(reference_dir, GROWN)).returncode == 0

    workdir = tmp_path / "work"
    small, grown = write_config(workdir, SMALL), write_config(workdir, GROWN, "grown.yaml")
    first = run(workdir, small)
    assert first.returncode == 0, first.stderr[-3000:]
    before = dataset_of(workdir)
    truncated, zeroed = sorted(chunks_dir(workdir).glob("*.nc"))
    truncate(truncated)
    zero_in_place(zeroed)

    again = run(workdir, small)  # the dataset is whole: nothing to redo, chunks set aside
    assert again.returncode == 0, again.stderr[-3000:]
    for path in (truncated, zeroed):
        assert str(path.relative_to(workdir)) in again.stderr
        assert path.with_name(path.name + ".corrupt").exists()
    xr.testing.assert_identical(dataset_of(workdir), before)

    rerun = run(workdir, grown)  # gathers again: the two set-aside chunks are recomputed
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert rerun.stdout.count("rule simulate:") + rerun.stderr.count("rule simulate:") == 3
    xr.testing.assert_identical(dataset_of(workdir), dataset_of(reference_dir))


@pipeline
def test_corruption_found_only_by_gather_keeps_the_previous_dataset(tmp_path):
    """Bytes changed with the mtime kept pass the planner's stat check; gather reads every
    byte against the digest, sets the chunk aside and fails with one line; the next run
    recomputes the chunk. (Snakemake removes dataset.nc before a gather job runs.)"""
    reference_dir = tmp_path / "reference"
    assert run(reference_dir, write_config(reference_dir, GROWN)).returncode == 0
    workdir = tmp_path / "work"
    small, grown = write_config(workdir, SMALL), write_config(workdir, GROWN, "grown.yaml")
    assert run(workdir, small).returncode == 0
    assert run(workdir, small, "-n").returncode == 0  # the planner checks the touched chunks
    bad = sorted(chunks_dir(workdir).glob("*.nc"))[0]
    times = bad.stat()
    with open(bad, "r+b") as fh:
        fh.seek(times.st_size // 2)
        fh.write(b"\xff" * 64)
    os.utime(bad, ns=(times.st_atime_ns, times.st_mtime_ns))

    failed = run(workdir, grown)
    assert failed.returncode != 0
    assert f"{bad.name} is corrupt" in failed.stderr and "moved aside" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert bad.with_name(bad.name + ".corrupt").exists()
    rerun = run(workdir, grown)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    xr.testing.assert_identical(dataset_of(workdir), dataset_of(reference_dir))


@pipeline
def test_a_garbage_manifest_is_named_and_rebuilt_by_the_workflow(tmp_path):
    configfile = write_config(tmp_path, SMALL)
    assert run(tmp_path, configfile).returncode == 0
    before = dataset_of(tmp_path)
    manifest = sorted(chunks_dir(tmp_path).glob("*.json"))[0]
    manifest.write_bytes(b"\x00garbage")
    rerun = run(tmp_path, configfile)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert str(manifest.relative_to(tmp_path)) in rerun.stderr
    assert "JSONDecodeError" not in rerun.stderr
    assert manifest.with_name(manifest.name + ".corrupt").read_bytes() == b"\x00garbage"
    xr.testing.assert_identical(dataset_of(tmp_path), before)
    # rule manifest writes it again when its chunk is next needed (here: asked for)
    assert run(tmp_path, configfile, str(manifest.relative_to(tmp_path))).returncode == 0
    assert sweep.read_manifest(manifest)["chunk"] == manifest.stem


def _unprivileged() -> list[str]:
    """A command prefix that runs as ``nobody`` when we are root (root writes to read-only
    directories)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a directory unwritable")
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@pipeline
def test_a_read_only_results_directory_is_one_line_naming_it():
    # not tmp_path: its parent is private to the user, and root runs this as nobody
    workdir = Path(tempfile.mkdtemp(prefix="ness-readonly-"))
    try:
        workdir.chmod(0o777)
        configfile = write_config(workdir, SMALL)
        configfile.chmod(0o644)
        (workdir / "results").mkdir(mode=0o555)
        (workdir / "results").chmod(0o555)
        env = {**os.environ, "HOME": str(workdir), "XDG_CACHE_HOME": str(workdir / ".cache")}
        cmd = [*_unprivileged(), str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d",
               str(workdir), "--configfile", str(configfile), "--cores", "2", *PROFILE]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    finally:
        (workdir / "results").chmod(0o755)
        shutil.rmtree(workdir)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr[-3000:]
    assert "cannot write in directory results (permission denied)" in lines[0]


@pipeline
def test_workflow_outputs_are_readable_by_the_group_with_umask_022(tmp_path, umask_022):
    configfile = write_config(tmp_path, {**SMALL, "figures": [
        {"kind": "line", "x": "drive", "y": ["current"], "hue": "temperature"}]})
    result = run(tmp_path, configfile)
    assert result.returncode == 0, result.stderr[-3000:]
    study = tmp_path / "results" / "faults"
    outputs = [*chunks_dir(tmp_path).iterdir(), study / "dataset.nc",
               *(study / "figures").iterdir(), *(tmp_path / "results" / "report").rglob("*.*")]
    assert {p.suffix for p in outputs} >= {".json", ".nc", ".digest", ".png", ".pdf", ".html"}
    modes = {str(p.relative_to(tmp_path)): oct(stat.S_IMODE(p.stat().st_mode)) for p in outputs}
    assert set(modes.values()) == {"0o644"}, modes
