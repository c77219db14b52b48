"""Comparisons across studies: config checks, the deviation's arithmetic, and a pipeline run
against the climate cycle's exact current (Hill's cycle formula, computed here)."""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from ness_core import comparisons, configs

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
NESS = Path(sys.executable).with_name("ness")
PROFILE = ("--workflow-profile", str(REPO / "workflow" / "profiles" / "default"))
WARM, COOL, ICY = 0, 1, 2
CLOCKWISE = {(WARM, COOL), (COOL, ICY), (ICY, WARM)}
ENERGIES = (0.0, -0.5, -1.0)  # the climate model's default E_W, E_C, E_I (DOMAIN.md S5)


def hill_current(drive: float, temperature: float, barrier: float = 1.0) -> float:
    """Net clockwise current of the three-state climate cycle, Hill's formula
    J = (k_WC k_CI k_IW - k_CW k_IC k_WI) / Σ, Σ the sum of the weights of all spanning trees
    (two edges into each root), with the rate law of DOMAIN.md S5 (ν = 1)."""
    k = np.zeros((3, 3))
    for i, j in itertools.permutations(range(3), 2):
        s = 1.0 if (i, j) in CLOCKWISE else -1.0
        k[i, j] = math.exp(-(barrier + (ENERGIES[j] - ENERGIES[i]) / 2 - s * drive / 2)
                           / temperature)
    trees = 0.0
    for root in range(3):
        a, b = (s for s in range(3) if s != root)
        trees += k[a, root] * k[b, root] + k[a, b] * k[b, root] + k[b, a] * k[a, root]
    return float((k[0, 1] * k[1, 2] * k[2, 0] - k[1, 0] * k[2, 1] * k[0, 2]) / trees)


def write_csv(path: Path, rows: list[tuple[float, float]], citation: bool = True) -> None:
    lines = ["# Hill's cycle formula, T. L. Hill, J. Theor. Biol. 10, 442 (1966)"] * citation
    lines += ["drive,J"] + [f"{x!r},{y!r}" for x, y in rows]
    path.write_text("\n".join(lines) + "\n")


STUDIES = {
    "climate_low": {"model": "climate", "chunk_size": 10,
                    "sweep": {"drive": {"start": 0.0, "stop": 2.0, "num": 5},
                              "temperature": [0.5, 1.0]},
                    "fixed": {"barrier": 1.0}},
    "climate_high": {"model": "climate", "chunk_size": 10,
                     "sweep": {"drive": [0.0, 1.0, 2.0]},
                     "fixed": {"barrier": 1.0, "temperature": 2.0}},
}


def make_config(workdir: Path) -> dict:
    """Two studies; comparison 'current' checks climate_low (T = 0.5) against the exact
    current (with drive 0, where it is exactly 0, and 3.0, beyond the curve) and
    climate_high against 1.1 × the exact current; 'current_hot' is a second comparison."""
    exact = [(d, 0.0 if d == 0 else hill_current(d, 0.5)) for d in (0.0, 0.5, 1.0, 1.5, 2.0,
                                                                    3.0)]
    write_csv(workdir / "exact.csv", exact)
    write_csv(workdir / "scaled.csv", [(d, 1.1 * hill_current(d, 2.0)) for d in (1.0, 2.0)],
              citation=False)
    return {"studies": copy.deepcopy(STUDIES), "comparisons": {
        "current": {"x": "drive", "y": "current", "curves": [
            {"study": "climate_low", "select": {"temperature": 0.5}, "label": "T = 0.5",
             "reference": {"file": "exact.csv", "x": "drive", "y": "J",
                           "label": "Hill (exact)"}},
            {"study": "climate_low", "select": {"temperature": 1.0}},
            {"study": "climate_high", "label": "T = 2",
             "reference": {"file": "scaled.csv", "x": "drive", "y": "J"}}]},
        "current_hot": {"x": "drive", "y": "entropy_production", "logy": False,
                        "curves": [{"study": "climate_high"}]}}}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # reference paths are relative to the working directory
    return tmp_path


def load(config: dict) -> dict:
    return configs.load_config(config, SCHEMA)


def test_valid_config_loads_and_fills_defaults(workdir):
    config = make_config(workdir)
    load(config)
    spec = config["comparisons"]["current"]
    assert spec["logx"] is False and spec["size"] is None and spec["fit"] is None
    assert spec["curves"][1]["reference"] is None and spec["curves"][1]["select"] == {
        "temperature": 1.0}


@pytest.mark.parametrize("edit, message", [
    (lambda c: c["curves"][0].update(study="nope"), "'study': 'nope' is not a study"),
    (lambda c: c.update(y="p_nope"), "y 'p_nope' is not a numeric observable"),
    (lambda c: c.update(x="barrier"), "x 'barrier' is not a swept axis"),
    (lambda c: c["curves"][0].update(select={"temperature": 0.7}),
     "temperature=0.7 is not a swept value"),
    (lambda c: c["curves"][0].update(select={"nu": 1.0}), "'nu' is neither a swept axis"),
    (lambda c: c["curves"][0].update(select={"temperature": 0.5, "drive": 1.0}),
     "'drive' is the comparison's x"),
    (lambda c: c["curves"][0].update(select={}), "has 'temperature' besides x"),
    (lambda c: c["curves"][0]["reference"].update(file="missing.csv"), "cannot read missing.csv"),
    (lambda c: c["curves"][0]["reference"].update(y="current"), "has no column 'current'"),
    (lambda c: c["curves"][1].update(label="T = 0.5"), "'T = 0.5' is already the label"),
    (lambda c: c["curves"][0]["reference"].update(colour="red"), "Additional properties"),
    (lambda c: c.update(curves=[]), "curves"),
    (lambda c: c.update(fit="power_law", fit_min=0.6), "fit': a power-law fit needs at least "
     "three values x > 0 within fit_min .. fit_max; study 'climate_high' has 2"),
    (lambda c: c.update(style="no-such-style"), "'style': 'no-such-style' is neither a file"),
    (lambda c: c.update(size="triple"), "size"),
])
def test_bad_comparison_is_one_config_error(workdir, edit, message):
    config = make_config(workdir)
    edit(config["comparisons"]["current"])
    with pytest.raises(configs.ConfigError, match=re.escape(message)) as error:
        load(config)
    assert "comparison" in str(error.value) or "comparisons" in str(error.value)
    assert "\n" not in str(error.value)


def test_non_numeric_reference_value_names_file_line_and_column(workdir):
    config = make_config(workdir)
    (workdir / "exact.csv").write_text("# a citation\n# another\ndrive,J\n0.5,0.1\n1.0,n/a\n")
    with pytest.raises(configs.ConfigError, match=r"exact.csv, line 5, column 'J': 'n/a' is "
                                                  r"not a number"):
        load(config)


def test_bad_comparison_name_is_refused(workdir):
    config = make_config(workdir)
    config["comparisons"]["a/b"] = config["comparisons"].pop("current")
    with pytest.raises(configs.ConfigError, match="comparisons"):
        load(config)


def test_plan_lists_comparisons_and_reports_errors_before_any_job(workdir):
    config = make_config(workdir)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = subprocess.run([str(NESS), "plan", "config.yaml", "--json"], capture_output=True,
                            text=True, timeout=120, cwd=workdir)
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)["comparisons"]
    assert [c["comparison"] for c in listed] == ["current", "current_hot"]
    assert listed[0]["studies"] == ["climate_low", "climate_high"] and listed[0]["references"] == 2
    text = subprocess.run([str(NESS), "plan", "config.yaml"], capture_output=True, text=True,
                          timeout=120, cwd=workdir).stdout
    assert "current: current vs drive, 3 curve(s) of climate_low, climate_high" in text
    (workdir / "scaled.csv").unlink()
    result = subprocess.run([str(NESS), "plan", "config.yaml"], capture_output=True, text=True,
                            timeout=120, cwd=workdir)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "comparison 'current', curves[2], reference 'file': cannot read scaled.csv" in \
        result.stderr


def test_interpolation_is_exact_for_a_linear_curve_and_skips_points_outside():
    xs = np.array([0.0, 1.0, 3.0])
    ys = 2.0 * xs - 1.0  # a straight line: linear interpolation reproduces it exactly
    at = np.array([-0.5, 0.0, 0.25, 2.0, 3.0, 3.5])
    got = comparisons.interpolate(xs, ys, at)
    assert np.isnan(got[0]) and np.isnan(got[-1])
    np.testing.assert_array_equal(got[1:-1], 2.0 * at[1:-1] - 1.0)


def test_deviation_is_relative_to_the_reference_and_leaves_out_zeros_and_gaps():
    xs = np.array([0.0, 1.0, 2.0, 3.0])
    ys = np.array([0.0, 1.0, np.nan, 3.0])  # a failed point at x = 2
    ref_x = np.array([0.0, 0.5, 1.0, 1.5, 3.0, 4.0])
    ref_y = np.array([0.0, 0.4, 1.25, 1.5, 3.0, 4.0])
    dev = comparisons.deviation(xs, ys, ref_x, ref_y)
    # compared: x = 0.5 (|0.5-0.4|/0.4 = 0.25), 1 (|1-1.25|/1.25 = 0.2), 3 (0); x = 0 has
    # r = 0; x = 1.5 borders the failed point and x = 4 lies outside: not compared
    assert dev["n_compared"] == 3 and dev["max_relative_deviation"] == pytest.approx(0.25)
    assert dev["n_zero_reference"] == 1 and dev["n_not_compared"] == 2
    assert dev["max_absolute_deviation"] == pytest.approx(0.25)
    none = comparisons.deviation(xs, ys, np.array([5.0]), np.array([1.0]))
    assert none["n_compared"] == 0 and none["max_relative_deviation"] is None


def _power_law_dataset(exponent: float, prefactor: float):
    """A study's dataset in which the gap is exactly prefactor · L^exponent."""
    import xarray as xr

    lengths = np.array([4, 6, 8, 12, 16])
    return xr.Dataset({"gap": ("L", prefactor * lengths.astype(float) ** exponent,
                               {"long_name": "Liouvillian gap", "units": "1/time"})},
                      coords={"L": ("L", lengths, {"long_name": "number of sites"})},
                      attrs={"model": "asep"})


def test_power_law_fit_recovers_an_exact_power_law_and_respects_its_range():
    spec = {"x": "L", "y": "gap", "fit": "power_law", "fit_min": 6, "fit_max": None,
            "curves": [{"study": "tasep"}]}
    summary = comparisons.summarize("gap", spec, {"tasep": _power_law_dataset(-1.5, 3.0)})
    (curve,) = summary["curves"]
    assert curve["fitted_exponent"] == pytest.approx(-1.5, abs=1e-12)
    assert curve["fitted_prefactor"] == pytest.approx(3.0, rel=1e-12)
    assert curve["fit_points"] == 4 and curve["fitted_exponent_stderr"] < 1e-6
    spec.update(fit_min=12)  # two points left: no fit, said so
    (curve,) = comparisons.summarize("gap", spec, {"tasep": _power_law_dataset(-1.5, 3.0)}
                                     )["curves"]
    assert curve["fitted_exponent"] is None and curve["fit_points"] == 2


def test_comparison_figure_is_journal_sized_type42_and_byte_identical_on_redraw(tmp_path):
    spec = {"x": "L", "y": "gap", "fit": "power_law", "fit_min": None, "fit_max": None,
            "logx": True, "logy": True, "size": "single", "style": None, "dpi": 100,
            "labels": "symbol", "title": None, "curves": [{"study": "tasep"}]}
    datasets = {"tasep": _power_law_dataset(-1.5, 3.0)}
    summary = comparisons.summarize("gap", spec, datasets)
    outputs = [tmp_path / "a.png", tmp_path / "a.pdf"]
    comparisons.draw("gap", spec, datasets, summary, outputs)
    first = [p.read_bytes() for p in outputs]
    comparisons.draw("gap", spec, datasets, summary, outputs)
    assert [p.read_bytes() for p in outputs] == first
    assert b"/Type3" not in first[1] and b"/CIDFontType2" in first[1]
    width, height = int.from_bytes(first[0][16:20], "big"), int.from_bytes(first[0][20:24],
                                                                           "big")
    # the single-column preset, 3.4 x 2.55 in at 100 dpi, plus 0.2 in per legend entry + 0.1
    assert (width, height) == (340, 255 + 30)


def _jobs(dry_run_output: str) -> list[str]:
    """The comparison names of the ``comparison`` jobs a dry run lists."""
    return sorted(re.findall(r"wildcards: comparison=([A-Za-z0-9_.-]+)", dry_run_output))


@pytest.mark.slow
def test_pipeline_deviation_from_exact_and_scaled_reference(tmp_path, snakemake_runner):
    workdir = tmp_path / "run"
    workdir.mkdir()
    config = make_config(workdir)
    configfile = workdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    result = snakemake_runner(workdir, configfile, *PROFILE)
    assert result.returncode == 0, result.stderr[-3000:]
    out = workdir / "results" / "comparisons"
    for name in ("current", "current_hot"):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    summary = json.loads((out / "current.json").read_text())
    assert (summary["name"], summary["x"], summary["y"]) == ("current", "drive", "current")
    exact, free, scaled = summary["curves"]
    assert (exact["study"], exact["label"], exact["reference_label"]) == (
        "climate_low", "T = 0.5", "Hill (exact)")
    # drives 0.5 … 2: compared; drive 0 (r = 0) and 3 (beyond the sweep) are not
    assert exact["n_compared"] == 4 and exact["max_relative_deviation"] <= 1e-9
    assert exact["n_zero_reference"] == 1 and exact["n_not_compared"] == 1
    assert free["max_relative_deviation"] is None and free["reference_label"] is None
    assert free["label"] == "climate_low (temperature = 1)"
    # reference r = 1.1 c: |c - r| / |r| = 0.1 / 1.1
    assert scaled["n_compared"] == 2
    assert scaled["max_relative_deviation"] == pytest.approx(0.1 / 1.1, rel=1e-9)
    assert scaled["reference_label"] == "scaled.csv"

    # editing one comparison redraws only it
    config["comparisons"]["current_hot"]["logy"] = True
    configfile.write_text(yaml.safe_dump(config, sort_keys=False))
    dry = snakemake_runner(workdir, configfile, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert _jobs(dry.stdout + dry.stderr) == ["current_hot"]
