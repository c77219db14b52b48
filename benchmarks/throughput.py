"""Pipeline throughput against a plain loop over ``ness_core.evaluate``, and dry-run time.

    .venv/bin/python benchmarks/throughput.py dryrun            # snakemake -n at 1e3/1e4/1e5
    .venv/bin/python benchmarks/throughput.py chunks 10000      # points/s vs chunk size, cores
    .venv/bin/python benchmarks/throughput.py chunks 2000 --model asep   # exact ASEP, L = 8
    .venv/bin/python benchmarks/throughput.py sweep 100000      # full sweep vs the loop, all cores
    .venv/bin/python benchmarks/throughput.py gather 100000     # gather peak memory, 100 sites
    .venv/bin/python benchmarks/throughput.py overhead 10000    # fixed cost of a run vs the loop

Every run is a fresh directory under a temporary root; the workflow runs with the default
profile. The loop on P cores is P processes, each looping over a contiguous 1/P of the
points (what a user would write with multiprocessing). `chunks` runs chunk sizes of 1/50
and 1/10 of the points and the automatic size, on 1 and 2 cores. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
PROFILE = ["--workflow-profile", str(REPO / "workflow" / "profiles" / "default")]


STUDY = "bench"
ASEP_L = 8  # exact ASEP: 2^8 = 256 configurations, a few ms per point


def bench_config(model: str, points: int, chunk_size: int | None) -> dict:
    """A study of about ``points`` points: climate drive × 100 temperatures, or exact ASEP
    (L = :data:`ASEP_L`) over a ρ_L × ρ_R grid with 50 values of ρ_R (or fewer)."""
    inner = min(100 if model == "climate" else 50, points)
    outer = math.ceil(points / inner)
    if model == "climate":
        sweep = {"drive": {"start": 0.0, "stop": 3.0, "num": outer},
                 "temperature": {"start": 0.3, "stop": 2.0, "num": inner}}
        fixed = {}
    else:
        sweep = {"rho_left": {"start": 0.02, "stop": 0.98, "num": outer},
                 "rho_right": {"start": 0.02, "stop": 0.98, "num": inner}}
        fixed = {"L": ASEP_L, "method": "exact"}
    return {"studies": {STUDY: {"model": model, "chunk_size": chunk_size, "sweep": sweep,
                                "fixed": fixed}}}


def snakemake(workdir: Path, config: dict, *args: str) -> float:
    """Wall seconds of one snakemake call on ``config`` in ``workdir`` (fails loudly)."""
    workdir.mkdir(parents=True, exist_ok=True)
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = [str(SNAKEMAKE), "-s", str(REPO / "Snakefile"), "-d", str(workdir),
           "--configfile", str(configfile), *args]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(result.stderr[-3000:])
    return seconds


def _evaluate_slice(job: tuple[str, list[dict]]) -> int:
    import ness_core

    model, points = job
    for params in points:
        ness_core.evaluate(model, **params)
    return len(points)


def loop_seconds(config: dict, cores: int) -> float:
    """Wall seconds of ``cores`` processes looping over the study's points."""
    from ness_core import configs

    study = configs.parse_config(config)[STUDY]
    params = [p.params for p in study.points()]
    size = math.ceil(len(params) / cores)
    slices = [(study.model, params[k:k + size]) for k in range(0, len(params), size)]
    start = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(cores) as pool:
        pool.map(_evaluate_slice, slices)
    return time.perf_counter() - start


def pipeline_seconds(root: Path, config: dict, cores: int) -> tuple[float, int]:
    """Wall seconds of a full run (no report) and the number of simulate jobs."""
    workdir = Path(tempfile.mkdtemp(dir=root))
    target = f"results/{STUDY}/dataset.nc"
    seconds = snakemake(workdir, config, "--cores", str(cores), *PROFILE, target)
    jobs = len(list((workdir / f"results/{STUDY}/chunks").glob("*.nc")))
    return seconds, jobs


def dryrun(root: Path) -> None:
    print("| points | jobs | first `snakemake -n` s | second s |\n|---|---|---|---|")
    for points in (1_000, 10_000, 100_000):
        workdir = Path(tempfile.mkdtemp(dir=root))
        config = bench_config("climate", points, None)
        first = snakemake(workdir, config, "-n", "--cores", "2")
        second = snakemake(workdir, config, "-n", "--cores", "2")
        jobs = len(list((workdir / f"results/{STUDY}/chunks").glob("*.json")))
        print(f"| {points} | {jobs} | {first:.1f} | {second:.1f} |", flush=True)


def chunks(root: Path, points: int, model: str) -> None:
    print("| model | cores | chunk size | jobs | pipeline s | points/s | loop s "
          "| pipeline / loop |")
    print("|---|---|---|---|---|---|---|---|")
    points = math.prod(len(v) for v in _axes(bench_config(model, points, None)))
    for cores in (1, 2):
        loop = loop_seconds(bench_config(model, points, None), cores)
        for chunk_size in (points // 50, points // 10, None):
            config = bench_config(model, points, chunk_size)
            seconds, jobs = pipeline_seconds(root, config, cores)
            print(f"| {model} | {cores} | {chunk_size or 'auto'} | {jobs} | {seconds:.1f} | "
                  f"{points / seconds:.0f} | {loop:.1f} | {seconds / loop:.2f} |", flush=True)


def _axes(config: dict) -> list[list]:
    from ness_core import configs

    return list(configs.parse_config(config)[STUDY].axes.values())


def full_sweep(root: Path, points: int) -> None:
    cores = os.cpu_count() or 1
    config = bench_config("climate", points, None)
    loop = loop_seconds(config, cores)
    seconds, jobs = pipeline_seconds(root, config, cores)
    log = next(root.glob(f"*/results/logs/gather/{STUDY}.log")).read_text()
    gather_mb = float(re.search(r"peak resident memory (\d+) MB", log).group(1))
    print("| points | cores | jobs | loop s | pipeline s | pipeline / loop | gather peak MB |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {points} | {cores} | {jobs} | {loop:.1f} | {seconds:.1f} | {seconds / loop:.2f} "
          f"| {gather_mb:.0f} |")


def overhead(root: Path, points: int) -> None:
    """The loop and the pipeline on all cores, and the pipeline's fixed cost: its wall time
    less the longest chunk's compute time (the ``seconds`` attr of each chunk file), i.e.
    Snakemake's start, parse and DAG, the manifests, job start-up and the gather; the
    CPU seconds of both (wall times move with other load on the machine, CPU less); and the
    mean CPU seconds a simulate and the gather job took to start, from their logs."""
    import xarray as xr

    cores = os.cpu_count() or 1
    config = bench_config("climate", points, None)
    before = _children_cpu()
    loop = loop_seconds(config, cores)
    middle = _children_cpu()
    workdir = Path(tempfile.mkdtemp(dir=root))
    seconds = snakemake(workdir, config, "--cores", str(cores), *PROFILE,
                        f"results/{STUDY}/dataset.nc")
    after = _children_cpu()
    computed = []
    for path in sorted((workdir / f"results/{STUDY}/chunks").glob("*.nc")):
        with xr.open_dataset(path) as ds:
            computed.append(float(ds.attrs["seconds"]))
    longest = max(computed)
    simulate = _start_up_cpu(workdir / "results/logs/simulate" / STUDY)
    gather = _start_up_cpu(workdir / "results/logs/gather")
    print("| points | cores | jobs | loop s | pipeline s | pipeline / loop | longest chunk s "
          "| fixed s | loop CPU s | pipeline CPU s | CPU ratio | simulate start-up CPU s "
          "| gather start-up CPU s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {points} | {cores} | {len(computed)} | {loop:.1f} | {seconds:.1f} | "
          f"{seconds / loop:.2f} | {longest:.1f} | {seconds - longest:.1f} | "
          f"{middle - before:.1f} | {after - middle:.1f} | "
          f"{(after - middle) / (middle - before):.2f} | {simulate} | {gather} |")


def _start_up_cpu(logs: Path) -> str:
    """Mean of the ``job start-up: <s> s CPU`` lines (:func:`ness_core.job.run`) of the job
    logs in ``logs``, ``—`` if none has one."""
    found = [float(m.group(1)) for log in logs.glob("*.log")
             if (m := re.search(r"job start-up: ([0-9.]+) s CPU", log.read_text()))]
    return f"{sum(found) / len(found):.2f}" if found else "—"


def _children_cpu() -> float:
    """User + system CPU seconds of this process's finished children (the loop's pool
    workers, the Snakemake process tree), less sensitive to other load than wall time."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def gather_memory(root: Path, points: int) -> None:
    """Peak memory of assembling ``points`` ASEP points with a 100-site profile (synthetic
    chunk files of 10 000 points; the values are random, only sizes matter). Observables
    with two model dims (site × site correlations) are left empty, as for a failed point."""
    import numpy as np

    from ness_core import configs, dataset
    from ness_core.models import get_model

    study = configs.parse_study("gather_bench", {
        "model": "asep", "sweep": {"rho_left": {"start": 0.01, "stop": 0.99,
                                                "num": math.ceil(points / 100)},
                                   "rho_right": {"start": 0.01, "stop": 0.99, "num": 100}},
        "fixed": {"L": 100, "method": "formula"}})
    rng = np.random.default_rng(0)
    observables = get_model("asep").all_observables()
    ids = [p.id for p in study.points()]
    paths = []
    for k in range(0, len(ids), 10_000):
        shapes = {o.name: (100,) * len(o.dims) if len(o.dims) < 2 else (0,) * len(o.dims)
                  for o in observables}
        results = [{o.name: "ok" if o.kind is str else rng.random(shapes[o.name])
                    for o in observables} for _ in ids[k:k + 10_000]]
        paths.append(root / f"chunk{k}.nc")
        dataset.write_netcdf(dataset.chunk_dataset("asep", ids[k:k + 10_000], results),
                             paths[-1])
    start = time.perf_counter()
    dataset.write_netcdf(dataset.assemble(study, paths), root / "dataset.nc")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = (root / "dataset.nc").stat().st_size / 2**20
    print("| points | sites | chunk files | gather s | dataset MB | peak MB |")
    print("|---|---|---|---|---|---|")
    print(f"| {len(ids)} | 100 | {len(paths)} | {seconds:.1f} | {size:.0f} | {peak:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("dryrun", "chunks", "sweep", "gather", "overhead"))
    parser.add_argument("points", type=int, nargs="?", default=10_000)
    parser.add_argument("--model", choices=("climate", "asep"), default="climate",
                        help="model of `chunks` (asep: exact, L = 8)")
    args = parser.parse_args()
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as root:
        if args.what == "dryrun":
            dryrun(Path(root))
        elif args.what == "chunks":
            chunks(Path(root), args.points, args.model)
        elif args.what == "gather":
            gather_memory(Path(root), args.points)
        elif args.what == "overhead":
            overhead(Path(root), args.points)
        else:
            full_sweep(Path(root), args.points)


if __name__ == "__main__":
    main()
