"""XXZ steady states by matrix-product time evolution (``method: mps``): time and memory
against the chain length.

Run by hand::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/mps.py [--lengths 16 32] \
        [--anisotropy 1.5 1.0] [--drive 0.05] [--max-bond 32] [--max-time 2000]

Each point runs in its own process (``ness point xxz ... --json``), one at a time, so that
its peak memory (the child's maximum resident set, interpreter and imports included) and
wall time are its own. Printed per point: L, Δ_z, χ limit and reached, evolution time and
steps, wall seconds, peak MB, current, current_uniformity, current_error, truncation_error,
status.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def run_point(length: int, anisotropy: float, args: argparse.Namespace) -> dict:
    """One ``ness point`` in a child process: its JSON result, wall time and peak RSS."""
    command = [sys.executable, "-m", "ness_core.cli", "point", "xxz", f"L={length}",
               f"anisotropy={anisotropy}", f"drive={args.drive}", "method=mps",
               f"max_bond={args.max_bond}", f"max_time={args.max_time}",
               f"time_step={args.time_step}", f"tolerance={args.tolerance}", "--json"]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(command, stdout=stdout, stderr=stderr, text=True)
        _, code, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        peak_mb = usage.ru_maxrss / 1024
        stdout.seek(0)
        stderr.seek(0)
        if code != 0:
            return {"status": f"exit {code}: {stderr.read().strip()[-200:]}", "wall": wall,
                    "peak_mb": peak_mb}
        out = json.loads(stdout.read())
    out.update(wall=wall, peak_mb=peak_mb)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--anisotropy", type=float, nargs="+", default=[1.5, 1.0])
    parser.add_argument("--drive", type=float, default=0.05)
    parser.add_argument("--max-bond", type=int, default=32)
    parser.add_argument("--max-time", type=float, default=2000.0)
    parser.add_argument("--time-step", type=float, default=0.1)
    parser.add_argument("--tolerance", type=float, default=1e-6)
    args = parser.parse_args()
    print("| L | Δ_z | χ max | χ reached | wall s | peak MB | J | uniformity | J error | "
          "truncation | status |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for anisotropy in args.anisotropy:
        for length in args.lengths:
            r = run_point(length, anisotropy, args)

            def number(key: str, result: dict = r) -> float:
                return float(result.get(key, "nan"))

            print(f"| {length} | {anisotropy:g} | {args.max_bond} | "
                  f"{number('bond_dimension'):.0f} | {r['wall']:.0f} | {r['peak_mb']:.0f} | "
                  f"{number('current'):.8g} | {number('current_uniformity'):.1e} | "
                  f"{number('current_error'):.1e} | {number('truncation_error'):.1e} | "
                  f"{r['status']} |", flush=True)

if __name__ == "__main__":
    main()
