"""Parameter studies: validated grids → stable point ids → chunks of work → resources.

A :class:`Study` is one validated entry of a config's ``studies:`` (built by
:mod:`ness_core.configs`). Every grid point has a stable id (:func:`point_id`): a hash of the
model name, *all* resolved parameters (swept, fixed and defaults) and the model's
``revision`` (a plugin model's also its distribution and version), so changing a fixed
parameter or a default, or a model's conventions, gives new ids. Points are computed in
*chunks*; a chunk is described by a manifest (``results/<study>/chunks/<chunk_id>.json``,
written once, atomically, by the workflow's rule ``manifests``; see
:mod:`ness_core.chunk_files`) and its result ``<chunk_id>.nc``.
:func:`plan_chunks` keeps every existing chunk that is computed and still useful, or planned
and entirely wanted, and chunks only the remaining points; so re-running computes nothing,
adding a value computes only the new points, and an interrupted run recomputes only the
missing chunks. Because manifests are files, a job depends on its chunk id alone, also when a
cluster job re-parses the workflow.
Automatic chunks aim at jobs of :data:`TARGET_CHUNK_SECONDS`, from the model's
``cost_estimate`` or, for a model that declares none, from timing a few of the points to
chunk (:func:`measured_cost`), and use the cores: a study whose work per core is at least
:data:`PARALLEL_MIN_SECONDS` gets at least one job per core (:func:`automatic_jobs`).
A simulate job asks for the memory of its largest point by the model's
``memory_estimate`` (:func:`chunk_mem_mb`); a point estimated above the memory limit is
refused before any job runs (:func:`check_memory`). :func:`summarize` gives what
``ness plan`` prints: points, jobs, CPU hours, memory and what already exists, without
writing anything.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import resource
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from ness_core.chunk_files import (
    check_writable,
    existing_chunks,
    peak_memory_mb,
    read_manifest,
    write_json_atomic,
)
from ness_core.errors import ConfigError
from ness_core.model import Model
from ness_core.models import get_model, plugin_provenance
from ness_core.progress import running_points

ID_LENGTH = 12  # hex digits of point and chunk ids (48 bits)
# A `script:` job pays ~1.5 s of interpreter start and imports (benchmarks/throughput.py,
# 2-core machine): jobs of >= 30 s keep that near 5 %.
TARGET_CHUNK_SECONDS = 30.0  # automatic chunks aim at jobs at least this long
MAX_CHUNK_POINTS = 10_000  # cap of automatic chunks, so one job never holds a whole sweep
MEASURE_SECONDS = 0.3  # time spent timing points of a model without a cost estimate
MEASURE_POINTS = 50  # at most this many points are timed
# Each core's share of a study must be at least this for the study to be split over the
# cores: about twice the start-up of a job, below which a second job costs what it saves.
PARALLEL_MIN_SECONDS = 3.0
JOB_MEM_MB = 1000  # least mem_mb of a simulate job at attempt 1
# Resident memory of a simulate job before its first solve: interpreter, numpy, scipy,
# xarray and netCDF4 (measured 137 MB) plus the chunk's results; added to memory_estimate.
JOB_BASE_MB = 200


class Point(NamedTuple):
    """One grid point: its id, swept values (axis order) and all resolved parameters.

    ``params`` is built on demand from the study's shared fixed part (``base``) and the
    point's ``coords`` along ``axis_names``, so a grid of 10⁶ points holds no 10⁶ dicts.
    """

    id: str
    coords: tuple[Any, ...]
    base: Mapping[str, Any]
    axis_names: tuple[str, ...]

    @property
    def params(self) -> dict[str, Any]:
        return {**self.base, **dict(zip(self.axis_names, self.coords, strict=True))}


@dataclass(frozen=True)
class Study:
    """A validated study: model name, swept axes (coerced values), fixed parameters, figures."""

    name: str
    model: str
    axes: dict[str, list[Any]]
    fixed: dict[str, Any]
    figures: list[dict[str, Any]] = field(default_factory=list)
    chunk_size: int | None = None
    refine: dict[str, Any] | None = None  # the `refine:` block (ness_core.refinement)

    @property
    def shape(self) -> tuple[int, ...]:
        """Grid shape, one entry per swept axis in config order."""
        return tuple(len(v) for v in self.axes.values())

    def points(self) -> list[Point]:
        """All grid points in C order (the first axis varies slowest).

        Parameters and ids equal ``model.resolve`` and :func:`point_id` of every point, built
        without either: :func:`parse_study` has coerced and checked all values, and the
        canonical JSON of a point is its fixed part with the axis values' pieces filled in.
        """
        m = get_model(self.model)
        base = {**{p.name: p.default for p in m.parameters}, **self.fixed}
        keys = sorted(base)
        names = tuple(self.axes)
        # the canonical JSON: fixed pieces (runs of them joined once) with one slot per axis
        parts: list[str] = []
        slots = {}
        run: list[str] = []
        for key in keys:
            if key in self.axes:
                if run:
                    parts.append(",".join(run))
                    run = []
                slots[key] = len(parts)
                parts.append("")
            else:
                run.append(_json_piece(key, base[key]))
        if run:
            parts.append(",".join(run))
        positions = [slots[name] for name in names]
        axis_pieces = [[_json_piece(name, v) for v in self.axes[name]] for name in names]
        head = '{"model":' + json.dumps(self.model) + ',"params":{'
        plugin = plugin_provenance(self.model)
        tail = ("}" + (f',"plugin":{json.dumps(plugin)}' if plugin else "")
                + (f',"revision":{m.revision}' if m.revision else "") + "}")
        out = []
        for coords, pieces in zip(itertools.product(*self.axes.values()),
                                  itertools.product(*axis_pieces), strict=True):
            for position, piece in zip(positions, pieces, strict=True):
                parts[position] = piece
            out.append(Point(_hash(head + ",".join(parts) + tail), coords, base, names))
        return out

    def config_hash(self) -> str:
        """Hash of everything that defines the study's data and figures."""
        spec = {"model": self.model, "axes": self.axes, "fixed": self.fixed,
                "figures": self.figures}
        return _hash(canonical_json(spec))


@dataclass(frozen=True)
class Chunk:
    """A unit of work: an id derived from its points, and the points in path order."""

    id: str
    points: tuple[Point, ...]

    def manifest(self, study: Study) -> dict[str, Any]:
        """JSON-able description, enough to compute the chunk without the config."""
        return {"chunk": self.id, "study": study.name, "model": study.model,
                "points": [{"id": p.id, "params": p.params} for p in self.points]}


def _canon(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _canon(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_canon(x) for x in v]
    if isinstance(v, float | np.floating):
        return "float:" + repr(float(v))
    if isinstance(v, np.integer):
        return int(v)
    return v


def canonical_json(obj: Any) -> str:
    """Deterministic JSON: sorted keys, floats as ``repr`` strings (so 1e-17 and inf are exact)."""
    return json.dumps(_canon(obj), sort_keys=True, separators=(",", ":"))


def _json_piece(key: str, value: Any) -> str:
    """``"key":value`` exactly as it appears inside :func:`canonical_json` of a mapping."""
    return json.dumps(str(key)) + ":" + canonical_json(value)


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()[:ID_LENGTH]


def point_id(model: str, params: Mapping[str, Any]) -> str:
    """Stable id of a point: hash of the model name, all resolved parameters and, once a
    model has changed what its results mean (``Model.revision`` > 0), its revision; for a
    plugin model also ``"<distribution>==<version>"``, so an upgraded plugin recomputes."""
    spec = {"model": model, "params": dict(params)}
    plugin = plugin_provenance(model)
    if plugin:
        spec["plugin"] = plugin
    revision = get_model(model).revision
    if revision:
        spec["revision"] = revision
    return _hash(canonical_json(spec))


def chunk_id(point_ids: Iterable[str]) -> str:
    """Stable id of a chunk: hash of its sorted point ids."""
    return _hash(canonical_json(sorted(point_ids)))


def declares_cost(model: Model) -> bool:
    """Whether ``model`` overrides :meth:`Model.cost_estimate` (else its default is a guess)."""
    return getattr(model.cost_estimate, "__func__", None) is not Model.cost_estimate


def measured_cost(study: Study, points: Sequence[Point]) -> float:
    """Mean seconds per point from evaluating the first ``points`` for ~:data:`MEASURE_SECONDS`.

    The first point is a warm-up (first-call imports and caches) and only counts alone.
    """
    from ness_core.api import evaluate

    start = time.perf_counter()
    evaluate(study.model, **points[0].params)
    warm_up = time.perf_counter() - start
    start, n = time.perf_counter(), 0
    for point in points[1:MEASURE_POINTS + 1]:
        evaluate(study.model, **point.params)
        n += 1
        if time.perf_counter() - start >= MEASURE_SECONDS:
            break
    return (time.perf_counter() - start) / n if n else warm_up


def chunk_cost(study: Study, points: Sequence[Point]) -> list[float]:
    """Estimated seconds per point: the model's ``cost_estimate``, else timed on a sample."""
    m = get_model(study.model)
    if declares_cost(m) or not points:
        return [m.cost_estimate(p.params) for p in points]
    return [measured_cost(study, points)] * len(points)


def available_cores() -> int:
    """CPUs this process may run on: the default core count of automatic chunking."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def automatic_jobs(costs: Sequence[float], cores: int) -> int:
    """Number of jobs for points of estimated ``costs`` (seconds) on ``cores`` cores.

    Jobs of at least :data:`TARGET_CHUNK_SECONDS` (total work W: ``floor(W / target)``
    jobs) and of at most :data:`MAX_CHUNK_POINTS` points; and, so that a study too small
    for jobs of the target length still uses the cores, at least
    ``min(cores, points, floor(W / PARALLEL_MIN_SECONDS))`` jobs: one per core when each
    core's share ``W / cores`` is at least :data:`PARALLEL_MIN_SECONDS`, fewer (none of
    them shorter than that) when it is not.
    """
    n, total = len(costs), float(sum(costs))
    if not n:
        return 0
    jobs = max(1, math.floor(total / TARGET_CHUNK_SECONDS), math.ceil(n / MAX_CHUNK_POINTS),
               min(cores, n, math.floor(total / PARALLEL_MIN_SECONDS)))
    return min(jobs, n)


def _balanced_cut(points: Sequence[Point], costs: Sequence[float],
                  jobs: int) -> list[list[Point]]:
    """``points`` in grid order cut into about ``jobs`` contiguous runs of equal cost
    (a point goes to run ``floor(jobs · (cost before it + half its own) / total)``), then
    runs longer than :data:`MAX_CHUNK_POINTS` split evenly."""
    cum = np.cumsum(np.asarray(costs, dtype=float))
    total = float(cum[-1]) if len(cum) else 0.0
    if total <= 0.0:  # no usable estimate: equal numbers of points
        cum, total = np.arange(1.0, len(points) + 1), float(len(points))
    middle = cum - np.diff(np.r_[0.0, cum]) / 2
    run = np.minimum((middle * jobs / total).astype(int), jobs - 1)
    runs: list[list[Point]] = []
    for k in np.unique(run):
        members = [points[i] for i in np.flatnonzero(run == k)]
        pieces = math.ceil(len(members) / MAX_CHUNK_POINTS)
        size = math.ceil(len(members) / pieces)
        runs += [members[i:i + size] for i in range(0, len(members), size)]
    return runs


def path_order(study: Study, points: Sequence[Point]) -> list[Point]:
    """``points`` as a path through the grid: consecutive points are neighbours.

    The fastest-varying axis is the last numeric axis with more than one value (else the
    last axis), the others keep their config order; the order is boustrophedon (snake):
    an axis runs backwards whenever the indices of the slower axes sum to an odd number, so
    each step changes one index by one. A one-axis sweep keeps its grid order.
    """
    names = list(study.axes)
    if not names:
        return list(points)
    numeric = [n for n in names if len(study.axes[n]) > 1 and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in study.axes[n])]
    fast = numeric[-1] if numeric else names[-1]
    axes = [names.index(n) for n in names if n != fast] + [names.index(fast)]
    index = [_axis_index(study.axes[n], {p.coords[a] for p in points})
             for a, n in enumerate(names)]
    sizes = [len(i) for i in index]

    def key(point: Point) -> tuple[int, ...]:
        out, parity = [], 0
        for a in axes:
            i = index[a][point.coords[a]]
            out.append(sizes[a] - 1 - i if parity % 2 else i)
            parity += i
        return tuple(out)

    return sorted(points, key=key)


def _axis_index(values: Sequence[Any], present: set[Any]) -> dict[Any, int]:
    """Position of each value along an axis for :func:`path_order`: its place in the config's
    list; where points carry values off that list (refinement proposals), the rank of every
    value among all of them sorted by value (numbers), else after the listed ones."""
    extra = present - set(values)
    if not extra:
        return {v: i for i, v in enumerate(values)}
    union = set(values) | extra
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in union):
        return {v: i for i, v in enumerate(sorted(union))}
    return {v: i for i, v in enumerate([*values, *sorted(extra, key=str)])}


def plan_chunks(study: Study, points: Sequence[Point],
                manifests: Mapping[str, Sequence[str]], computed: set[str],
                cores: int | None = None) -> list[Chunk]:
    """Chunks covering ``points``: reuse existing ones, chunk only what is left.

    ``manifests`` maps existing chunk ids to their point ids, ``computed`` holds the ids
    whose results exist. A computed chunk is kept if it holds any wanted point not yet
    covered; a planned-only chunk is kept if all its points are wanted and uncovered. The
    rest is cut in path order (:func:`path_order`, so that a chunk's points are solved
    as a path with warm starts, :mod:`ness_core.warm`) into chunks of ``study.chunk_size``
    points, or, when that is ``None``, into :func:`automatic_jobs` chunks of equal
    estimated cost for ``cores`` cores (default :func:`available_cores`). Chunks are
    returned in grid order of their first point.
    """
    by_id = {p.id: p for p in path_order(study, points)}
    covered: set[str] = set()
    chunks = []
    order = sorted(manifests, key=lambda c: (c not in computed, c))
    for cid in order:
        ids = set(manifests[cid])
        useful = ids & by_id.keys() - covered
        keep = useful and (useful == ids if cid not in computed else True)
        if keep:
            chunks.append(Chunk(cid, tuple(by_id[i] for i in by_id if i in ids)))
            covered |= useful
    todo = [p for p in by_id.values() if p.id not in covered]
    if not todo:
        runs: list[Sequence[Point]] = []
    elif study.chunk_size:
        runs = [todo[i:i + study.chunk_size] for i in range(0, len(todo), study.chunk_size)]
    else:
        costs = chunk_cost(study, todo)
        runs = _balanced_cut(todo, costs,
                             automatic_jobs(costs, cores or available_cores()))
    chunks += [Chunk(chunk_id(p.id for p in run), tuple(run)) for run in runs]
    position = {p.id: i for i, p in enumerate(points)}
    return sorted(chunks, key=lambda c: position[c.points[0].id])


def declares_memory(model: Model) -> bool:
    """Whether ``model`` overrides :meth:`Model.memory_estimate`."""
    return getattr(model.memory_estimate, "__func__", None) is not Model.memory_estimate


def point_memory_mb(model: Model, params: Mapping[str, Any]) -> float | None:
    """Estimated peak resident memory (MB) of a job solving ``params``: the model's
    ``memory_estimate`` plus :data:`JOB_BASE_MB`; ``None`` if the model declares none."""
    estimate = model.memory_estimate(dict(params))
    return None if estimate is None else JOB_BASE_MB + float(estimate)


def job_mem_mb(attempt: int, need_mb: float | None = None) -> int:
    """``mem_mb`` of a simulate job: the larger of :data:`JOB_MEM_MB` and the estimated
    peak ``need_mb`` rounded up to 100 MB, doubled on every retry."""
    first = JOB_MEM_MB if need_mb is None else max(JOB_MEM_MB, 100 * math.ceil(need_mb / 100))
    return first * 2 ** (attempt - 1)


def chunk_mem_mb(model_name: str, chunk: Chunk | str | os.PathLike, attempt: int) -> int:
    """``mem_mb`` of the simulate job of a chunk (planned, or its manifest file):
    :func:`job_mem_mb` of its largest point's estimate (a manifest is read only if the model
    declares an estimate)."""
    model = get_model(model_name)
    if not declares_memory(model):
        return job_mem_mb(attempt)
    params = ([p.params for p in chunk.points] if isinstance(chunk, Chunk)
              else [p["params"] for p in read_manifest(chunk)["points"]])
    needs = [point_memory_mb(model, p) for p in params]
    return job_mem_mb(attempt, max((n for n in needs if n is not None), default=None))


def machine_memory_mb() -> float:
    """Physical memory of this machine in MB (the default limit of a local run)."""
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_limit_mb(given_mb: float | None, local: bool) -> float | None:
    """Most memory one job may use: ``given_mb`` (``snakemake --resources mem_mb=N``) if
    set, else for a local run this machine's memory, else (a cluster) no limit."""
    if given_mb is not None:
        return float(given_mb)
    return machine_memory_mb() if local else None


def check_memory(study: Study, limit_mb: float | None) -> float | None:
    """Largest estimated job memory (MB) of ``study``'s points, or ``None`` if its model
    declares no estimate; raises :class:`ConfigError` naming the point if it exceeds
    ``limit_mb`` (``None``: no limit)."""
    model = get_model(study.model)
    if not declares_memory(model):
        return None
    worst, where = None, None
    for point in study.points():
        need = point_memory_mb(model, point.params)
        if need is not None and (worst is None or need > worst):
            worst, where = need, dict(zip(study.axes, point.coords, strict=True))
    if worst is not None and limit_mb is not None and worst > limit_mb:
        raise ConfigError(
            f"study '{study.name}', sweep point {where}: needs about {worst:.0f} MB by the "
            f"model's memory estimate, more than the limit of {limit_mb:.0f} MB; shrink the "
            f"point or raise the limit (snakemake --resources mem_mb=MB, ness plan "
            f"--max-mem-mb MB)")
    return worst


def plan_study(study: Study, directory: str | os.PathLike,
               cores: int | None = None, verify: bool = True,
               write: bool = True) -> list[Chunk]:
    """Plan ``study`` against the manifests in ``directory``; with ``write``, write the
    manifests of new chunks (the workflow leaves that to its rule ``manifests``).

    With ``verify`` (the run's own planning; a cluster job re-parsing the workflow skips it)
    corrupt chunk results and unreadable manifests are moved aside and planned again
    (:func:`~ness_core.chunk_files.existing_chunks`). If there are new chunks and
    ``directory`` cannot be written, :class:`~ness_core.chunk_files.OutputError` names it.
    """
    manifests, computed = existing_chunks(directory, verify=verify, repair=verify)
    chunks = plan_chunks(study, study.points(), manifests, computed, cores)
    new = [chunk for chunk in chunks if chunk.id not in manifests]
    if new:
        check_writable(directory)
    for chunk in new if write else []:
        write_manifest(Path(directory, f"{chunk.id}.json"), chunk, study)
    return chunks


def write_manifest(path: str | os.PathLike, chunk: Chunk, study: Study) -> None:
    """Write ``chunk``'s manifest (:meth:`Chunk.manifest`) to ``path``, atomically."""
    write_json_atomic(path, chunk.manifest(study))


@dataclass(frozen=True)
class StudyPlan:
    """What running a study would do: sizes, estimated cost, and what is already done.

    ``cpu_hours`` is the whole study's estimated CPU time (``cost_estimate`` or timed
    points), ``cpu_hours_todo`` that of the points still to compute; ``mem_mb`` is the
    most memory a simulate job of the study requests at attempt 1, ``mem_estimate_mb``
    the largest estimated peak of a job (``memory_estimate`` + :data:`JOB_BASE_MB`;
    ``None`` if the model declares no estimate), and ``peak_mem_mb`` the largest peak
    resident memory recorded by a finished chunk of the study (``None`` before any).
    ``running_points`` counts the points that chunks still running have done so far
    (their ``<chunk>.progress`` files, :mod:`ness_core.progress`).
    """

    study: str
    model: str
    points: int
    jobs: int
    chunk_size: int | None
    max_chunk_points: int
    cpu_hours: float
    cpu_hours_todo: float
    mem_mb: int
    mem_estimate_mb: float | None
    peak_mem_mb: float | None
    finished_jobs: int
    finished_points: int
    running_points: int = 0


def summarize(study: Study, directory: str | os.PathLike,
              cores: int | None = None) -> StudyPlan:
    """Plan ``study`` against ``directory`` like :func:`plan_study`, writing nothing.

    Corrupt chunk results are reported on stderr and counted as still to compute.
    """
    manifests, computed = existing_chunks(directory)
    points = study.points()
    chunks = plan_chunks(study, points, manifests, computed, cores)
    need = check_memory(study, None)
    done = [c for c in chunks if c.id in computed]
    done_ids = {p.id for c in done for p in c.points}
    costs = chunk_cost(study, points)
    todo_cost = sum(c for p, c in zip(points, costs, strict=True) if p.id not in done_ids)
    return StudyPlan(
        study=study.name, model=study.model, points=len(points), jobs=len(chunks),
        chunk_size=study.chunk_size, max_chunk_points=max(len(c.points) for c in chunks),
        cpu_hours=sum(costs) / 3600, cpu_hours_todo=todo_cost / 3600,
        mem_mb=job_mem_mb(1, need), mem_estimate_mb=need,
        peak_mem_mb=peak_memory_mb(Path(directory, f"{c.id}.nc") for c in done),
        finished_jobs=len(done), finished_points=len(done_ids),
        running_points=running_points(directory, [c.id for c in chunks if c.id not in computed]))


def process_peak_mb() -> float:
    """This process's peak resident memory in MB: VmHWM of /proc/self/status on Linux.

    Not ``ru_maxrss``, which after fork + exec starts from the parent's high-water mark: a job
    Snakemake starts would report at least Snakemake's own resident size.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:  # no procfs (macOS, BSD)
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes / KiB
