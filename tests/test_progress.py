"""Progress of running chunks: the simulate job's log line and `<chunk>.progress` file, and
`ness plan`'s count of the points running chunks have done (ness_core.progress)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

from ness_core import chunk_files, dataset, progress, sweep
from ness_core.sweep import Study

LINE = re.compile(r"progress: (\d+)/(\d+) points \((\d+)%\), elapsed (\d+:\d\d:\d\d), "
                  r"ETA (\d+:\d\d:\d\d|\?)")


def climate_study(chunk_size=4):
    return Study(name="climate_grid", model="climate",
                 axes={"drive": [0.0, 0.5, 1.0, 1.5, 2.0], "temperature": [0.5, 1.0]},
                 fixed={}, chunk_size=chunk_size)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_progress_line_gives_done_total_elapsed_and_eta():
    line = progress.progress_line(12, 60, elapsed=10.0)
    assert line == "progress: 12/60 points (20%), elapsed 0:00:10, ETA 0:00:40"
    assert LINE.fullmatch(progress.progress_line(0, 5, 0.0)).group(5) == "?"
    assert progress.format_interval(3725) == "1:02:05"


def test_a_job_reports_every_interval_and_at_the_end_then_removes_its_file(tmp_path):
    result = tmp_path / "abc123.nc"
    lines, clock = [], Clock()
    with progress.ChunkProgress(result, 5, log=lines.append, interval=10,
                                clock=clock) as report:
        path = tmp_path / "abc123.progress"
        record = json.loads(path.read_text())
        assert record["done"] == 0 and record["total"] == 5 and record["pid"] == os.getpid()
        for done, dt in zip(range(1, 6), (3, 3, 5, 20, 1), strict=True):
            clock.now += dt
            report.update(done, 5)
            if done == 2:  # 6 s after the start: too soon for a report
                assert lines == [] and json.loads(path.read_text())["done"] == 0
            if done == 4:  # 31 s: a slow point is reported as soon as it ends
                assert json.loads(path.read_text())["done"] == 4
        assert [LINE.fullmatch(x).group(1, 2) for x in lines] == [("3", "5"), ("4", "5"),
                                                                    ("5", "5")]
        assert lines[0] == "progress: 3/5 points (60%), elapsed 0:00:11, ETA 0:00:07"
        assert lines[-1].endswith("ETA 0:00:00")
    assert not path.exists()


def test_the_progress_file_goes_also_when_the_job_fails(tmp_path):
    try:
        with progress.ChunkProgress(tmp_path / "c.nc", 3):
            assert (tmp_path / "c.progress").exists()
            raise RuntimeError("solver crashed")
    except RuntimeError:
        pass
    assert not (tmp_path / "c.progress").exists()


def test_compute_chunk_reports_after_every_point(tmp_path):
    study = climate_study()
    (chunk, *_) = sweep.plan_study(study, tmp_path)
    manifest = sweep.read_manifest(tmp_path / f"{chunk.id}.json")
    seen = []
    ds = dataset.compute_chunk(manifest, progress=lambda done, total: seen.append((done, total)))
    n = len(manifest["points"])
    assert seen == [(k, n) for k in range(1, n + 1)] and ds.sizes["point"] == n


def test_summarize_counts_the_points_of_running_chunks(tmp_path):
    study = climate_study()
    chunks = sweep.plan_study(study, tmp_path)
    assert len(chunks) == 3
    before = sweep.summarize(study, tmp_path)
    assert before.running_points == 0 and before.finished_points == 0
    # one chunk running here (this process), one left by a job killed on this host
    running = progress.ChunkProgress(tmp_path / f"{chunks[0].id}.nc", 4)
    with running:
        running.update(3, 4)
        running.interval = 0
        running.update(3, 4)
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout.strip()
        chunk_files.atomic_write(tmp_path / f"{chunks[1].id}.progress", json.dumps(
            {"done": 2, "total": 4, "host": socket.gethostname(), "pid": int(dead)}))
        manifests, computed = chunk_files.existing_chunks(tmp_path)
        assert set(manifests) == {c.id for c in chunks} and computed == set()
        plan = sweep.summarize(study, tmp_path)
        assert plan.running_points == 3 and plan.finished_points == 0
        assert sweep.plan_study(study, tmp_path) == chunks  # the file is no manifest
    assert sweep.summarize(study, tmp_path).running_points == 0


def test_a_progress_file_from_another_host_counts_until_its_result_exists(tmp_path):
    study = climate_study()
    chunks = sweep.plan_study(study, tmp_path)
    chunk_files.atomic_write(tmp_path / f"{chunks[2].id}.progress", json.dumps(
        {"done": 1, "total": 2, "host": "node-elsewhere", "pid": 1}))
    assert sweep.summarize(study, tmp_path).running_points == 1
    manifest = sweep.read_manifest(tmp_path / f"{chunks[2].id}.json")
    dataset.write_netcdf(dataset.compute_chunk(manifest), tmp_path / f"{chunks[2].id}.nc",
                         digest=True)
    plan = sweep.summarize(study, tmp_path)
    assert plan.running_points == 0 and plan.finished_points == 2
