"""Reading, checking, expanding and planning large configs (issue: 10⁶ points well under 10 s).

    python benchmarks/config_scale.py            # 1000 × 1000 climate grid, 10⁶-value list

Times, in one process, each stage `ness plan` and the workflow's DAG build go through:
reading the file (strict YAML), the schema and model checks, expanding the grid into points
with ids, cutting it into chunks, and writing the chunk manifests (what `snakemake` does
before any job). Results are in benchmarks/README.md.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from ness_core import chunk_files, configs, sweep
from ness_core.cli import SCHEMA

GRID = ("studies:\n  big:\n    model: climate\n    sweep:\n"
        "      drive: {start: 0, stop: 0.1, num: 1000}\n"
        "      temperature: {start: 0.2, stop: 1.0, num: 1000}\n")
LIST = ("studies:\n  big:\n    model: climate\n    sweep:\n      drive: ["
        + ", ".join(repr(i / 1e6) for i in range(1_000_000)) + "]\n")


def stages(text: str, directory: Path) -> dict[str, float]:
    path = directory / "config.yaml"
    path.write_text(text)
    times, start = {}, time.perf_counter()

    def lap(name: str) -> None:
        nonlocal start
        times[name] = time.perf_counter() - start
        start = time.perf_counter()

    config = configs.read_config_file(path)
    lap("read")
    study = configs.load_config(config, SCHEMA)["big"]
    lap("check")
    points = study.points()
    lap("expand")
    chunks = sweep.plan_chunks(study, points, {}, set(), cores=2)
    lap("plan")
    for chunk in chunks:
        chunk_files.write_json_atomic(directory / f"{chunk.id}.json", chunk.manifest(study))
    lap("manifests")
    return times


def main() -> None:
    for name, text in (("1000 × 1000 grid", GRID), ("10⁶-value list", LIST)):
        with tempfile.TemporaryDirectory() as directory:
            times = stages(text, Path(directory))
        total = sum(times.values())
        print(f"{name}: " + ", ".join(f"{k} {v:.2f} s" for k, v in times.items())
              + f"; total {total:.2f} s")


if __name__ == "__main__":
    main()
