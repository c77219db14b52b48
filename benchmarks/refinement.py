"""Adaptive refinement: points to locate the Kerr gap minimum against uniform grids
(``kerr``), and the wall time per round that the pipeline's checkpoints add (``rounds``).

``kerr``:

For N = 1…6 (the kerr_gap_closing study of config/quantum.yaml: Δ = 3, U0 = κ = 1, T = 0,
F0 ∈ [0.5, 2.5]) the reference minimum g* is scipy's bounded Brent search (xatol 1e-10) on
the model's gap. Refinement (ness_core.refinement.refine_function, the pipeline's
algorithm) starts from the 9-point coarse grid; its points and the achieved relative error
|g - g*|/g* are counted per tolerance. A uniform grid's best point misses the minimum by up
to c (h/2)²/2 (c the gap's curvature at F0*, by central differences): it needs
num = ceil((stop - start) / (2 sqrt(2 tol g*/c))) + 1 points to be sure of tol.

    OPENBLAS_NUM_THREADS=1 python benchmarks/refinement.py kerr

``rounds``: a 10⁴-point climate study (drive × 100 temperatures, the slices) refined along
drive (steepest current, tolerance 1e-9, budget 112 per slice: four rounds of three points
per slice). It runs the workflow once (fresh), then removes the round records and outputs
and runs it again: every chunk exists, so the rerun is the rounds alone (checkpoint jobs and
Snakemake's re-evaluation of the DAG after each), less a dry run's time once complete (parse
and DAG of the finished study). Per round it prints that wall time, the checkpoint's own
work in process (:func:`ness_core.refine_rounds.next_round`, reading the chunks and
proposing) and the start of a script job's Python (interpreter and imports).

    OPENBLAS_NUM_THREADS=1 python benchmarks/refinement.py rounds
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.optimize

from ness_core.api import evaluate
from ness_core.refinement import refine_function

FIXED = {"detuning": 3.0, "U0": 1.0, "kappa": 1.0, "temperature": 0.0}
START, STOP, COARSE = 0.5, 2.5, 9
TOLERANCES = (1e-4, 1e-6, 1e-8)


def kerr() -> None:
    print("| N | F0* | g* | tol | refined points | rounds | achieved error | uniform points "
          "| ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    start = time.perf_counter()
    for n in range(1, 7):
        def gap(drive, n=n):
            return evaluate("kerr", drive=drive, N=n, **FIXED)["gap"]

        coarse = np.linspace(START, STOP, COARSE)
        best = coarse[int(np.argmin([gap(x) for x in coarse]))]
        step = (STOP - START) / (COARSE - 1)
        ref = scipy.optimize.minimize_scalar(gap, bounds=(best - step, best + step),
                                             method="bounded", options={"xatol": 1e-10})
        g, x = ref.fun, ref.x
        d = 1e-3
        c = (gap(x + d) - 2 * g + gap(x - d)) / d**2
        for tol in TOLERANCES:
            status, xs, rounds = refine_function(gap, coarse, "minimum", tol, 200)
            error = abs(status.value - g) / g
            uniform = math.ceil((STOP - START) / (2 * math.sqrt(2 * tol * g / c))) + 1
            print(f"| {n} | {x:.8f} | {g:.8e} | {tol:g} | {len(xs)} | {rounds} | {error:.1e} "
                  f"| {uniform} | {uniform / len(xs):.0f} |", flush=True)
    print(f"total {time.perf_counter() - start:.0f} s")


REPO = Path(__file__).resolve().parents[1]
PROFILE = ["--workflow-profile", str(REPO / "workflow" / "profiles" / "default")]
ROUNDS_STUDY = {"model": "climate",
                "sweep": {"drive": {"start": -3.0, "stop": 3.0, "num": 100},
                          "temperature": {"start": 0.3, "stop": 2.0, "num": 100}},
                "refine": {"axis": "drive", "target": "steepest", "observable": "current",
                           "tolerance": 1e-9, "max_points": 112}}


def snakemake(workdir: Path, *args: str) -> float:
    """Wall seconds of one snakemake call in ``workdir`` (fails loudly)."""
    cmd = [str(Path(sys.executable).with_name("snakemake")), "-s", str(REPO / "Snakefile"),
           "-d", str(workdir), "--configfile", str(workdir / "config.yaml"), "--cores", "2",
           *PROFILE, *args]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode:
        sys.exit(result.stderr[-3000:])
    return time.perf_counter() - start


def rounds() -> None:
    import yaml

    from ness_core import configs, refine_rounds

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = {"studies": {"bench": ROUNDS_STUDY}}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        fresh = snakemake(workdir, "results/bench/refinement.json")
        results = workdir / "results/bench"
        records = sorted(results.glob("refine/round_*.json"),
                         key=lambda p: int(p.stem.split("_")[1]))
        n_rounds = len(records)
        chunks = len(list(results.glob("chunks/*.nc")))
        done = snakemake(workdir, "-n", "results/bench/refinement.json")
        study = configs.load_config(config, REPO / "workflow/schemas/config.schema.yaml")["bench"]
        grid = [p for p in results.glob("chunks/*.nc")
                if p.stem not in json.loads(records[-1].read_text())["chunks"]]
        work = []
        previous = None
        with tempfile.TemporaryDirectory() as scratch:
            for path in records:
                record = json.loads(path.read_text())
                paths = grid + [results / "chunks" / f"{c}.nc"
                                for c in (previous or {}).get("chunks", [])]
                start = time.perf_counter()
                refine_rounds.next_round(study, record["round"], paths, previous, scratch)
                work.append(time.perf_counter() - start)
                previous = record
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import ness_core.refine_rounds, "
                        "ness_core.configs, ness_core.job"], check=True)
        python = time.perf_counter() - start
        shutil.rmtree(results / "refine")
        for name in ("refinement.json", "refinement.nc"):
            (results / name).unlink()
        rerun = snakemake(workdir, "results/bench/refinement.json")
    per_round = (rerun - done) / n_rounds
    print(f"10^4-point climate study, {n_rounds} rounds, {chunks} chunk files; fresh run "
          f"{fresh:.1f} s, dry run once complete {done:.1f} s, rounds alone {rerun:.1f} s")
    print(f"per round: {per_round:.2f} s; of it in process next_round "
          f"{sum(work) / n_rounds:.2f} s (rounds: {', '.join(f'{w:.2f}' for w in work)}), "
          f"script Python start {python:.2f} s, left for Snakemake (checkpoint "
          f"re-evaluation, job dispatch) {per_round - sum(work) / n_rounds - python:.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("what", choices=["kerr", "rounds"], nargs="?", default="kerr")
    {"kerr": kerr, "rounds": rounds}[parser.parse_args().what]()
