"""The ``ness`` command.

``ness models`` lists the models (built-in and plugin models), ``ness models NAME`` shows
one model's parameters, observables and conventions (its docstrings), ``ness point NAME
key=value ... [--json]`` evaluates one point (observables with their units), ``ness plan
CONFIG [--json]`` shows what the workflow would run for a config (per study: points, jobs,
chunk size, estimated CPU time and memory, what exists under ``results/``) without writing
anything; ``ness run CONFIG [snakemake args]`` checks CONFIG the same way, then starts
Snakemake on it (so Snakemake's own YAML loader only ever sees a file that passed the strict
one: no YTE templates, no alias bombs). With ``--json`` stdout holds exactly one JSON
object: for ``point`` the ``evaluate`` dict with arrays as lists and non-finite floats as
the strings ``"inf"``, ``"-inf"``, ``"nan"``; for ``plan`` ``{"studies": [...]}``. Bad
input exits with status 2 and one line on stderr; a bad config gives the workflow's own
``config error: ...`` line.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ness_core import resources
from ness_core.errors import ModelContractError, ParameterError

EXIT_USAGE = 2
SCHEMA = resources.SCHEMA  # the checkout's workflow/schemas/, or the wheel's copy of it
SNAKEFILE = resources.SNAKEFILE  # None in a wheel install: `ness run` needs a checkout


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


def _megabytes(text: str) -> float:
    """A memory size in MB for argparse: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of MB >= 0")
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
    from ness_core.models import all_models, get_model

    if name is None:  # built-in and plugin models; a bad plugin is one warning on stderr
        models = all_models()
        width = max(len(n) for n in models)
        for n, m in sorted(models.items()):
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
    conventions = _conventions(m)
    if conventions:
        print("\nconventions:\n")
        print(conventions)


def _conventions(model: Any) -> str:
    """The model's documented conventions: its module's docstring (units, signs, formulas,
    references), then the class docstring where it says more, indented by two spaces."""
    import inspect

    from ness_core.model import Model

    module = sys.modules.get(type(model).__module__)
    texts = [inspect.getdoc(module) if module else None, inspect.getdoc(type(model))]
    texts = [t for t in texts if t and t != inspect.getdoc(Model)]
    unique = [t for k, t in enumerate(texts) if t not in texts[:k]]
    return "\n\n".join("\n".join(f"  {line}" if line else "" for line in t.splitlines())
                        for t in unique)


@contextlib.contextmanager
def _library_output_to_stderr():
    """Send whatever compiled libraries write to file descriptor 1 (LAPACK's XERBLA
    messages, for one) to stderr while inside, so stdout holds only what ``ness`` prints."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _point_command(name: str, assignments: list[str], as_json: bool) -> None:
    from ness_core.api import evaluate

    with _library_output_to_stderr():
        result = evaluate(name, **_parse_assignments(assignments))
    if as_json:
        print(json.dumps(to_jsonable(result)))
        return
    units = _observable_units(name)
    for key, value in result.items():
        unit = units.get(key, "")
        print(f"{key}: {to_jsonable(value)}" + (f" ({unit})" if unit else ""))


def _observable_units(name: str) -> dict[str, str]:
    """Observable name → its declared unit, for ``ness point`` without ``--json``."""
    from ness_core.models import get_model

    return {o.name: o.unit for o in get_model(name).all_observables()}


def human_duration(hours: float) -> str:
    """A CPU time given in hours as people say it: ``"0.3 s"``, ``"12 min"``, ``"8.6 h"``
    (two significant figures below 100 of the unit, whole numbers above)."""
    if not math.isfinite(hours):
        return str(hours)

    def shown(value: float) -> str:
        return f"{value:.2g}" if abs(value) < 99.5 else f"{value:.0f}"

    seconds = hours * 3600
    if float(shown(seconds)) < 60:
        return f"{shown(seconds)} s"
    if float(shown(seconds / 60)) < 60:
        return f"{shown(seconds / 60)} min"
    return f"{shown(hours)} h"


def _plan_command(configfile: str, directory: str, as_json: bool,
                  max_mem_mb: float | None) -> None:
    from ness_core import comparisons, configs, sweep
    from ness_core.models import short_name

    if not Path(directory).is_dir():
        what = "not a directory" if Path(directory).exists() else "no such directory"
        raise ParameterError(f"--directory {directory}: {what}")
    config = configs.read_config_file(configfile)
    # paths in the config (SBML files) are relative to the workflow's working directory
    with contextlib.chdir(directory), _library_output_to_stderr():
        studies = configs.load_config(config, SCHEMA)
    limit = sweep.machine_memory_mb() if max_mem_mb is None else max_mem_mb
    for study in studies.values():  # the workflow's own check, before any job runs
        sweep.check_memory(study, limit or None)
    with _library_output_to_stderr():  # summarize times points of some models
        plans = [sweep.summarize(study, Path(directory, "results", name, "chunks"))
                 for name, study in studies.items()]
    compared = comparisons.describe(config.get("comparisons") or {})
    refined = [refinement_budget(study) for study in studies.values() if study.refine]
    if as_json:
        print(json.dumps({"studies": [dataclasses.asdict(p) for p in plans],
                          "comparisons": compared, "refinement": refined}))
        return
    header = ("study", "model", "points", "jobs", "chunk", "CPU", "CPU todo", "mem MB",
              "est. peak MB", "peak MB", "done jobs", "done points", "running points")
    rows = [(p.study, short_name(p.model), p.points, p.jobs,
             p.chunk_size or f"auto≤{p.max_chunk_points}", human_duration(p.cpu_hours),
             human_duration(p.cpu_hours_todo), p.mem_mb,
             "-" if p.mem_estimate_mb is None else f"{p.mem_estimate_mb:.0f}",
             "-" if p.peak_mem_mb is None else f"{p.peak_mem_mb:.0f}",
             p.finished_jobs, p.finished_points, p.running_points) for p in plans]
    widths = [max(len(str(r[k])) for r in (header, *rows)) for k in range(len(header))]
    for row in (header, *rows):
        print("  ".join(f"{str(v):<{w}}" for v, w in zip(row, widths, strict=True)).rstrip())
    if refined:
        print("\nrefinement (points above: the coarse grid; results/STUDY/refinement.json):")
    for r in refined:
        where = (f"along {r['axis']}" if "axis" in r
                 else f"in the {r['axes'][0]}-{r['axes'][1]} plane")
        print(f"  {r['study']}: {r['target']} of {r['observable']} {where} to "
              f"{r['tolerance']:g}, at most {r['max_points']} points per slice x "
              f"{r['slices']} slices = {r['max_total_points']} points")
    if compared:
        print("\ncomparisons (results/comparisons/NAME.png, .pdf, .json):")
    for c in compared:
        print(f"  {c['comparison']}: {c['y']} vs {c['x']}, {c['curves']} curve(s) of "
              f"{', '.join(c['studies'])}, {c['references']} reference(s)")


def refinement_budget(study: Any) -> dict[str, Any]:
    """What ``ness plan`` says of a study's ``refine:`` block: the budget in points."""
    spec = study.refine
    refined = [spec["axis"]] if "axis" in spec else spec["axes"]
    slices = math.prod(len(v) for k, v in study.axes.items() if k not in refined)
    return {"study": study.name, **spec, "slices": slices,
            "max_total_points": slices * spec["max_points"]}


def _run_command(configfile: str, snakemake_args: list[str]) -> None:
    """Check ``configfile`` as ``ness plan`` does, then replace this process by Snakemake
    on it: Snakemake's own loader never sees a file that would fail the strict reading."""
    from ness_core import configs

    if SNAKEFILE is None:
        raise ParameterError("ness run: this ness_core is an installed package without the "
                             "workflow; run it from a ness-sweep checkout (pip install -e .) "
                             "or snakemake --snakefile CHECKOUT/Snakefile")
    configs.load_config(configs.read_config_file(configfile), SCHEMA)
    args = [sys.executable, "-m", "snakemake", "--snakefile", str(SNAKEFILE),
            "--configfile", configfile, *snakemake_args]
    sys.stdout.flush()
    os.execv(sys.executable, args)


def main(argv: list[str] | None = None) -> int:
    from ness_core import __version__

    parser = _Parser(prog="ness", description="Non-equilibrium steady states: models and sweeps.")
    parser.add_argument("--version", action="version", version=f"ness-sweep {__version__}")
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
    plan.add_argument("--max-mem-mb", type=_megabytes, default=None, metavar="MB",
                      help="memory one job may use (default: this machine's, as a local "
                           "run; 0: no limit); a point estimated above it is an error")
    run = sub.add_parser("run", help="check a config as plan does, then run snakemake on it")
    run.add_argument("config", help="config file, as for snakemake --configfile")
    run.add_argument("snakemake_args", nargs=argparse.REMAINDER, metavar="...",
                     help="further snakemake arguments, e.g. --cores 2 -n")
    from ness_core.configs import ConfigError

    try:
        args = parser.parse_args(argv)
        if args.command == "models":
            _models_command(args.name)
        elif args.command == "point":
            _point_command(args.name, args.assignments, args.json)
        elif args.command == "plan":
            _plan_command(args.config, args.directory, args.json, args.max_mem_mb)
        elif args.command == "run":
            _run_command(args.config, args.snakemake_args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ParameterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ModelContractError as exc:  # a bug of the model (e.g. a plugin), not of the input
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `ness models | head`: the reader left, so stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the interpreter's final flush goes nowhere
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
