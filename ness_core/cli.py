"""The ``ness`` command.

``ness models`` lists the models, ``ness models NAME`` shows one model's parameters and
observables, ``ness point NAME key=value ... [--json]`` evaluates one point, ``ness plan
CONFIG [--json]`` shows what the workflow would run for a config (per study: points, jobs,
chunk size, estimated CPU hours and memory, what exists under ``results/``) without writing
anything. With ``--json`` stdout holds exactly one JSON object: for ``point`` the
``evaluate`` dict with arrays as lists and non-finite floats as the strings ``"inf"``,
``"-inf"``, ``"nan"``; for ``plan`` ``{"studies": [...]}``. Bad input exits with status 2
and one line on stderr; a bad config gives the workflow's own ``config error: ...`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ness_core.errors import ParameterError

EXIT_USAGE = 2
SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage block
        raise ParameterError(f"{self.prog}: {message}")


def to_jsonable(value: Any) -> Any:
    """Plain JSON types: arrays to lists, numpy scalars to Python, non-finite floats to strings."""
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _parse_assignments(items: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"expected key=value, got '{item}'")
        if key in params:
            raise ParameterError(f"parameter '{key}' given twice")
        params[key] = value
    return params


def _models_command(name: str | None) -> None:
    from ness_core.models import MODELS, get_model

    if name is None:
        width = max(len(n) for n in MODELS)
        for n, m in sorted(MODELS.items()):
            print(f"{n:<{width}}  {m.summary}")
        return
    m = get_model(name)
    print(f"{m.name}: {m.summary}\n")
    print(f"equilibrium: {m.equilibrium}\n")
    print("parameters:")
    for p in m.parameters:
        axis = f" [axis: {p.axis}]" if p.axis else ""
        default = "derived" if p.default is None else repr(p.default)
        unit = f" ({p.unit})" if p.unit else ""
        print(f"  {p.name}{unit} = {default}; {p.allowed()}{axis}\n      {p.meaning}")
    print("\nobservables:")
    for o in m.all_observables():
        dims = f" [{', '.join(o.dims)}]" if o.dims else ""
        unit = f" ({o.unit})" if o.unit else ""
        print(f"  {o.name}{dims}{unit}: {o.long_name}")


def _point_command(name: str, assignments: list[str], as_json: bool) -> None:
    from ness_core.api import evaluate

    result = evaluate(name, **_parse_assignments(assignments))
    if as_json:
        print(json.dumps(to_jsonable(result)))
        return
    for key, value in result.items():
        print(f"{key}: {to_jsonable(value)}")


def _plan_command(configfile: str, directory: str, as_json: bool,
                  max_mem_mb: float | None) -> None:
    import yaml

    from ness_core import configs, sweep
    from ness_core.models.network import short_name

    try:
        with open(configfile) as fh:
            config = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ParameterError(f"cannot read config {configfile}: {exc}".splitlines()[0]) from None
    if not isinstance(config, dict):
        raise configs.ConfigError("config: expected a mapping with 'studies'")
    # paths in the config (SBML files) are relative to the workflow's working directory
    workdir = contextlib.chdir(directory) if Path(directory).is_dir() else contextlib.nullcontext()
    with workdir:
        studies = configs.load_config(config, SCHEMA)
    limit = sweep.machine_memory_mb() if max_mem_mb is None else max_mem_mb
    for study in studies.values():  # the workflow's own check, before any job runs
        sweep.check_memory(study, limit or None)
    plans = [sweep.summarize(study, Path(directory, "results", name, "chunks"))
             for name, study in studies.items()]
    if as_json:
        print(json.dumps({"studies": [dataclasses.asdict(p) for p in plans]}))
        return
    header = ("study", "model", "points", "jobs", "chunk", "CPU h", "CPU h todo", "mem MB",
              "est. peak MB", "peak MB", "done jobs", "done points")
    rows = [(p.study, short_name(p.model), p.points, p.jobs,
             p.chunk_size or f"auto≤{p.max_chunk_points}", f"{p.cpu_hours:.3g}",
             f"{p.cpu_hours_todo:.3g}", p.mem_mb,
             "-" if p.mem_estimate_mb is None else f"{p.mem_estimate_mb:.0f}",
             "-" if p.peak_mem_mb is None else f"{p.peak_mem_mb:.0f}",
             p.finished_jobs, p.finished_points) for p in plans]
    widths = [max(len(str(r[k])) for r in (header, *rows)) for k in range(len(header))]
    for row in (header, *rows):
        print("  ".join(f"{str(v):<{w}}" for v, w in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    parser = _Parser(prog="ness", description="Non-equilibrium steady states: models and sweeps.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    models = sub.add_parser("models", help="list models, or show one model's parameters")
    models.add_argument("name", nargs="?")
    point = sub.add_parser("point", help="evaluate one parameter point")
    point.add_argument("name")
    point.add_argument("assignments", nargs="*", metavar="key=value")
    point.add_argument("--json", action="store_true", help="print one JSON object")
    plan = sub.add_parser("plan", help="what the workflow would run for a config, per study")
    plan.add_argument("config", help="config file, as for snakemake --configfile")
    plan.add_argument("-d", "--directory", default=".",
                      help="working directory holding results/ (as snakemake -d)")
    plan.add_argument("--json", action="store_true", help="print one JSON object")
    plan.add_argument("--max-mem-mb", type=float, default=None, metavar="MB",
                      help="memory one job may use (default: this machine's, as a local "
                           "run; 0: no limit); a point estimated above it is an error")
    from ness_core.configs import ConfigError

    try:
        args = parser.parse_args(argv)
        if args.command == "models":
            _models_command(args.name)
        elif args.command == "point":
            _point_command(args.name, args.assignments, args.json)
        elif args.command == "plan":
            _plan_command(args.config, args.directory, args.json, args.max_mem_mb)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return 0


if __name__ == "__main__":
    sys.exit(main())
