"""Cost of the reaction-network solvers, by hand: the truncated CME and Gillespie simulation.

Usage: ``python benchmarks/networks.py`` runs every row; ``--task NAME ARG`` runs one in this
process (the table runs each row in a fresh subprocess, ``isolated.py``, so the peak resident
memory belongs to that row alone).

* ``cme2 Ω``: the chemostat cell (two dynamic species G, L; drive = 2) as a CME at volume
  Ω, through :func:`ness_core.networks.solve_cme` (box grown until the boundary probability
  is below 1e-8): stationary state alone (``ness``), then with the spectral gap (``gap``).
* ``cme3 Ω``: the same for a three-species network (A + B <-> C fed and drained through
  chemostats), whose sparse LU fills in far more than a two-dimensional lattice's.
* ``ssa NAME``: Gillespie events per second of the compiled kernel (compilation excluded,
  reported separately) for the chemostat cell (3 reactions), the binding network (4) and a
  linear chain of 20 species (21 reactions), 10⁷ recorded events each.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from isolated import run_isolated

TIMEOUT = 1800  # seconds per row
ROWS = [("cme2", "100"), ("cme2", "250"), ("cme3", "4"), ("cme3", "6"), ("cme3", "12"),
        ("ssa", "chemostat"), ("ssa", "binding"), ("ssa", "chain20")]
BINDING = {
    "species": {"A": {}, "B": {}, "C": {}},
    "chemostats": {"Ax": {"concentration": 1.0}, "Bx": {"concentration": 0.6},
                   "Cx": {"concentration": 0.2}},
    "reactions": {
        "feed_a": {"equation": "Ax <-> A", "rate": 1.0, "backward": 1.0},
        "feed_b": {"equation": "Bx <-> B", "rate": 2.0, "backward": 2.0},
        "bind": {"equation": "A + B <-> C", "rate": 1.5, "backward": 0.4},
        "remove": {"equation": "C <-> Cx", "rate": 0.8, "backward": 0.8},
    },
}
CHAIN = {
    "species": {f"S{i}": {} for i in range(20)},
    "chemostats": {"In": {"concentration": 2.0}, "Out": {"concentration": 0.5}},
    "reactions": {
        "r0": {"equation": "In <-> S0", "rate": 1.0, "backward": 0.5},
        **{f"r{i}": {"equation": f"S{i - 1} <-> S{i}", "rate": 1.0, "backward": 0.5}
           for i in range(1, 20)},
        "r20": {"equation": "S19 <-> Out", "rate": 1.0, "backward": 0.5},
    },
}


def _kinetics(name: str):
    from ness_core.models.chemostat import NETWORK, Chemostat
    from ness_core.networks import parse_network

    if name == "chemostat":
        return NETWORK.kinetics(Chemostat().resolve({"drive": 2.0}))
    return parse_network({"binding": BINDING, "chain20": CHAIN}[name]).kinetics({})


def run_cme(kind: str, volume: float) -> dict:
    from ness_core.networks import deterministic_steady_states, solve_cme
    from ness_core.sweep import process_peak_mb

    kin = _kinetics("chemostat" if kind == "cme2" else "binding")
    c = deterministic_steady_states(kin, np.ones(len(kin.species))).states[0].concentrations
    start = np.round(volume * c).astype(np.int64)
    out = {}
    for task, gap in (("ness", False), ("gap", True)):
        t0 = time.perf_counter()
        cme = solve_cme(kin, volume, start, tol=1e-8, max_states=2_000_000, gap=gap)
        out[task] = time.perf_counter() - t0
    flux = cme.forward_flux - cme.backward_flux
    return {"row": f"{kind} Ω={volume:g}", "states": len(cme.states),
            "seconds": f"NESS {out['ness']:.2f} s, NESS + gap {out['gap']:.2f} s",
            "peak_mb": process_peak_mb(),
            "value": f"J={flux[1]:.6f} gap={cme.gap:.6f} boundary={cme.boundary_probability:.1e}"}


def run_ssa(name: str) -> dict:
    from ness_core.solvers.gillespie import simulate
    from ness_core.sweep import process_peak_mb

    kin = _kinetics(name)
    volume = 20.0
    start = np.full(len(kin.species), 20)
    t0 = time.perf_counter()
    simulate(kin.reactants, kin.products, kin.k_plus, kin.k_minus, volume, start, 1000)
    compile_s = time.perf_counter() - t0
    events = 10_000_000
    t0 = time.perf_counter()
    res = simulate(kin.reactants, kin.products, kin.k_plus, kin.k_minus, volume, start, events,
                   burn_in=0)
    seconds = time.perf_counter() - t0
    return {"row": f"ssa {name} ({len(kin.reactions)} reactions)", "states": "-",
            "seconds": f"{seconds:.2f} s for 1e7 events: {events / seconds:.3g} events/s "
                       f"(first call incl. compile/cache load {compile_s:.1f} s)",
            "peak_mb": process_peak_mb(),
            "value": f"σ={res.entropy_production:.5g}±{res.entropy_production_error:.2g}"}


def main() -> None:
    print(f"{'row':<34} {'states':>8} {'peak MB':>8}  seconds; result")
    for task, arg in ROWS:
        r, why = run_isolated(__file__, [task, arg], TIMEOUT)
        if r is None:
            print(f"{task} {arg}: {why}")
            continue
        print(f"{r['row']:<34} {r['states']:>8} {r['peak_mb']:>8.0f}  {r['seconds']}; "
              f"{r['value']}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--task":
        task, arg = sys.argv[2], sys.argv[3]
        print(json.dumps(run_ssa(arg) if task == "ssa" else run_cme(task, float(arg))))
    else:
        main()
