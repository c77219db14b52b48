"""Figure options: log axes, colour scales bounded below, contours, spectrum figures, row cuts
of two-point functions, and the config errors that name a bad figure key.

Every figure is drawn from a small synthetic dataset whose values are known in closed form,
and checked through the matplotlib objects it produced (scales, norms, plotted data).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pytest
import xarray as xr
import yaml

from ness_core import configs, plots

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def dataset(variables: dict, coords: dict, swept: list[str]) -> xr.Dataset:
    ds = xr.Dataset(variables, coords=coords,
                    attrs={"study": "s", "model": "wire", "swept_axes": json.dumps(swept)})
    for name in ds.variables:
        ds[name].attrs.setdefault("long_name", f"the {name}")
        ds[name].attrs.setdefault("units", "1")
    return ds


def test_line_figure_with_logy_has_a_log_axis_and_warns_about_nonpositive_values():
    drive = np.linspace(0.0, 2.0, 5)
    gap = np.exp(-3.0 * drive)
    gap[0] = 0.0  # a closed gap cannot be shown on a log axis
    ds = dataset({"gap": ("drive", gap)}, {"drive": drive}, ["drive"])
    with pytest.warns(UserWarning, match=r"logy: 1 value\(s\) <= 0 of 'gap'"):
        fig = plots.line_figure(ds, {"x": "drive", "y": ["gap"], "logy": True})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "linear"
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_ydata(), gap, rtol=1e-15)  # 0 is masked when drawn
    plain = plots.line_figure(ds, {"x": "drive", "y": ["gap"]})
    assert plain.axes[0].get_yscale() == "linear"


def test_minimum_over_an_axis_draws_the_smallest_value_per_x():
    drive = np.linspace(0.0, 2.0, 21)
    scale = np.array([1.0, 2.0, 3.0])
    # gap(F, N) = exp(-N) + (F - 1)²: its minimum along F is exp(-N), at F = 1
    gap = np.exp(-scale)[None, :] + (drive[:, None] - 1.0) ** 2
    ds = dataset({"gap": (("drive", "N"), gap)}, {"drive": drive, "N": scale}, ["drive", "N"])
    fig = plots.line_figure(ds, {"x": "N", "y": ["gap"], "minimum_over": "drive",
                                 "logy": True})
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_xdata(), scale)
    np.testing.assert_allclose(line.get_ydata(), np.exp(-scale), rtol=1e-12)
    assert fig.axes[0].get_ylabel().startswith("min over drive of")


def test_refined_points_are_hollow_and_each_slice_target_is_marked():
    # union grid: coarse 0, 1, 2 and refined 0.9, 1.1 (N = 1 only), gap = (F - 1)² + N
    drive = np.array([0.0, 0.9, 1.0, 1.1, 2.0])
    scale = np.array([1.0, 2.0])
    gap = (drive[:, None] - 1.0) ** 2 + scale[None, :]
    gap[[1, 3], 1] = np.nan  # slice N = 2 has no refined point
    ds = dataset({"gap": (("drive", "N"), gap)}, {"drive": drive, "N": scale}, ["drive", "N"])
    ds.attrs.update(refine=json.dumps({"axis": "drive", "target": "minimum",
                                       "observable": "gap"}),
                    coarse_grid=json.dumps({"drive": [0.0, 1.0, 2.0]}),
                    refinement_targets=json.dumps([
                        {"select": {"N": n}, "location": 1.0, "location_uncertainty": 0.05,
                         "value": 1.0 + n, "converged": True} for n in (1.0, 2.0)]))
    ax = plots.line_figure(ds, {"x": "drive", "y": ["gap"], "hue": "N"}).axes[0]
    [hollow] = [c for c in ax.collections if len(c.get_offsets()) == 2]
    np.testing.assert_allclose(hollow.get_offsets(), [[0.9, 1.01], [1.1, 1.01]])
    assert (hollow.get_facecolors()[:, :3] == 1.0).all()  # white inside
    diamonds = [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert sorted((float(d.get_xdata()[0]), float(d.get_ydata()[0])) for d in diamonds) == [
        (1.0, 2.0), (1.0, 3.0)]
    # another observable on the axis: refined points still hollow, no target
    ds["current"] = ds["gap"] * 2
    ax = plots.line_figure(ds, {"x": "drive", "y": ["current"], "hue": "N"}).axes[0]
    assert not [line for line in ax.get_lines() if line.get_marker() == "D"]
    assert [len(c.get_offsets()) for c in ax.collections].count(2) == 1


def test_draw_writes_a_log_axis_figure_to_png_and_pdf(tmp_path):
    drive = np.linspace(0.5, 2.5, 6)
    ds = dataset({"gap": (("drive", "N"), np.exp(-np.outer(drive, [1.0, 2.0])))},
                 {"drive": drive, "N": [1, 2]}, ["drive", "N"])
    outputs = [tmp_path / "gap.png", tmp_path / "gap.pdf"]
    plots.draw(ds, {"kind": "line", "x": "drive", "y": ["gap"], "hue": "N", "logy": True},
               outputs)
    assert outputs[0].read_bytes().startswith(b"\x89PNG") and outputs[0].stat().st_size > 5000
    assert outputs[1].read_bytes().startswith(b"%PDF-")


def test_heatmap_bounded_log_colour_scale_with_contours():
    """ratio = 2 + x·y: vmin = 2 is the bottom of a log scale, a value below it takes the
    'under' colour, and the requested contour levels are the ones drawn."""
    x, y = np.linspace(0.0, 2.0, 9), np.linspace(0.5, 2.0, 7)
    ratio = 2.0 + np.outer(x, y)
    ratio[3, 2] = 1.5  # a violation of the bound
    ds = dataset({"tur_ratio": (("drive", "temperature"), ratio)},
                 {"drive": x, "temperature": y}, ["drive", "temperature"])
    spec = {"x": "drive", "y": "temperature", "value": "tur_ratio", "logz": True, "vmin": 2.0,
            "contours": [3.0, 2.2]}
    fig = plots.heatmap_figure(ds, spec)
    ax = fig.axes[0]
    mesh = next(c for c in ax.collections if hasattr(c, "get_array") and c.norm is not None
                and c.get_array() is not None and c.get_array().size == ratio.size)
    assert isinstance(mesh.norm, mcolors.LogNorm)
    assert mesh.norm.vmin == 2.0 and mesh.norm.vmax == pytest.approx(ratio.max())
    assert mesh.cmap.get_under() == pytest.approx(mcolors.to_rgba(plots.UNDER_COLOR))
    assert mesh.norm(1.5) < 0  # drawn in the under colour
    contour = next(c for c in ax.collections if hasattr(c, "levels"))
    np.testing.assert_array_equal(contour.levels, [2.2, 3.0])
    # the 3.0 contour of 2 + x·y passes through x·y = 1: (1, 1) lies on it
    path = np.vstack([p.vertices for p in contour.get_paths()[1:]])
    assert np.min(np.hypot(path[:, 0] - 1.0, path[:, 1] - 1.0)) < 0.05
    colorbar = fig.axes[1]
    assert colorbar.get_yscale() == "log"


def test_spectrum_figure_pairs_each_observable_with_its_reference_curve():
    """Markers of y[i] and the line of reference[i] share a colour; NaN padding is dropped and
    the points are drawn in order of x."""
    mode = np.arange(1, 6)
    energy = np.array([-1.5, -0.5, 0.5, 1.5, np.nan])  # a shorter chain: NaN padding
    right, left = 1 / (np.exp(energy / 2) + 1), 1 / (np.exp(energy / 0.5) + 1)
    ds = dataset({"mode_energy": (("drive", "mode"), [energy[::-1], energy]),
                  "n_right": (("drive", "mode"), [right[::-1], right]),
                  "n_left": (("drive", "mode"), [left[::-1], left]),
                  "f_left": (("drive", "mode"), [right[::-1], right]),
                  "f_right": (("drive", "mode"), [left[::-1], left])},
                 {"drive": [0.2, 0.4], "mode": mode}, ["drive"])
    fig = plots.spectrum_figure(ds, {"x": "mode_energy", "y": ["n_right", "n_left"],
                                     "reference": ["f_left", "f_right"]})
    assert len(fig.axes) == 2  # one panel per drive (the facet)
    for ax in fig.axes:
        markers = [ln for ln in ax.get_lines() if ln.get_linestyle() == "None"]
        curves = [ln for ln in ax.get_lines() if ln.get_linestyle() == "-"]
        assert len(markers) == 2 and len(curves) == 2
        for marker, curve, exact in zip(markers, curves, (right, left), strict=True):
            assert marker.get_color() == curve.get_color()
            np.testing.assert_array_equal(marker.get_xdata(), energy[:4])
            np.testing.assert_allclose(marker.get_ydata(), exact[:4], rtol=1e-15)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["the n_right", "the n_left", "the f_left", "the f_right"]


def test_row_cut_of_a_two_point_function_leaves_out_the_diagonal():
    """C(i, j) = −i(L + 1 − j) for i < j (symmetric), row i = 3 of L = 6, offdiagonal."""
    n = 6
    i, j = np.meshgrid(np.arange(1, n + 1), np.arange(1, n + 1), indexing="ij")
    corr = -np.minimum(i, j) * (n + 1 - np.maximum(i, j)) * 1.0
    corr[i == j] = 10.0  # an on-site variance that would dwarf the rest
    ds = dataset({"density_correlation": (("rho_left", "site_i", "site_j"),
                                          [corr, 0.5 * corr])},
                 {"rho_left": [1.0, 0.5], "site_i": np.arange(1, n + 1),
                  "site_j": np.arange(1, n + 1)}, ["rho_left"])
    spec = {"x": "site_j", "y": ["density_correlation"], "hue": "rho_left",
            "select": {"site_i": 3}, "offdiagonal": True}
    ax = plots.line_figure(ds, spec).axes[0]
    lines = [ln for ln in ax.get_lines() if len(ln.get_xdata())]
    assert len(lines) == 4  # two hues × the two sides of j = i: the line is broken there
    xs = sorted(x for ln in lines for x in ln.get_xdata())
    assert 3 not in xs and xs == sorted([1, 2, 4, 5, 6] * 2)
    for ln in lines:
        jj = np.asarray(ln.get_xdata(), dtype=int)
        scale = ln.get_ydata()[0] / corr[2, jj[0] - 1]
        assert scale in (1.0, 0.5)
        np.testing.assert_allclose(ln.get_ydata(), scale * corr[2, jj - 1], rtol=1e-15)
    full = plots.line_figure(ds, {**spec, "offdiagonal": False}).axes[0]
    assert max(max(ln.get_ydata()) for ln in full.get_lines() if len(ln.get_ydata())) == 10.0


def test_loglog_expected_exponents_are_dashed_guides_through_each_fit():
    # y = 3 L^-1 and y = 2 L^0 exactly: the fits recover the exponents, and each guide has
    # the expected slope and meets its fit at the geometric centre of the fitted range
    length = np.array([4, 8, 16, 32])
    delta = np.array([0.5, 1.5])
    current = np.stack([2.0 * length**0.0, 3.0 / length], axis=1)
    ds = dataset({"current": (("L", "anisotropy"), current)},
                 {"L": length, "anisotropy": delta}, ["L", "anisotropy"])
    spec = {"x": "L", "y": "current", "hue": "anisotropy", "expected_exponent": [0.0, -0.5]}
    fig = plots.loglog_figure(ds, spec)
    ax = fig.axes[0]
    guides = [ln for ln in ax.get_lines() if ln.get_gid() == "expected_exponent"]
    assert [ln.get_linestyle() for ln in guides] == ["--", "--"]
    for guide, expected, prefactor, exponent in zip(guides, (0.0, -0.5), (2.0, 3.0),
                                                    (0.0, -1.0), strict=True):
        x, y = np.asarray(guide.get_xdata()), np.asarray(guide.get_ydata())
        slope = np.diff(np.log(y)) / np.diff(np.log(x))
        np.testing.assert_allclose(slope, expected, atol=1e-12)
        centre = np.sqrt(4 * 32)
        np.testing.assert_allclose(np.exp(np.interp(np.log(centre), np.log(x), np.log(y))),
                                   prefactor * centre**exponent, rtol=1e-12)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "(expected -0.5)" in labels[1] and "z = -1.000" in labels[1]
    plain = plots.loglog_figure(ds, {**spec, "expected_exponent": None}).axes[0]
    assert not [ln for ln in plain.get_lines() if ln.get_gid() == "expected_exponent"]


def config_with(figure: dict, model: str = "wire", sweep_spec: dict | None = None,
                fixed: dict | None = None) -> dict:
    study = {"model": model, "sweep": sweep_spec or {"drive": [0.2, 0.4]},
             "fixed": fixed or {"N": 6}, "figures": [figure]}
    return {"studies": {"bad_study": study}}


CHIMERA = {"kind": "spectrum", "x": "mode_energy",
           "y": ["occupation_right_movers", "occupation_left_movers"],
           "reference": ["fermi_left", "fermi_right"]}
ROW_CUT = {"kind": "line", "x": "site_j", "y": ["density_correlation"], "hue": "rho_left"}
ASEP = {"model": "asep", "sweep_spec": {"rho_left": [0.5, 1.0]},
        "fixed": {"L": 4, "drive": 0.0, "rho_right": 0.0, "fluctuations": True}}

# (config, words the one-line message must contain besides the study name)
BAD_FIGURES = [
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current", "logy": "yes"}),
                 ["figures[0]", "logy", "boolean"], id="logy-not-boolean"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current", "logx": True}),
                 ["figures[0]", "logx"], id="unknown-option"),
    pytest.param(config_with({"kind": "loglog", "x": "drive", "y": "current", "logy": True}),
                 ["figures[0]", "'logy'", "only line and spectrum"], id="logy-on-loglog"),
    pytest.param(config_with({"kind": "loglog", "x": "drive", "y": "current",
                              "expected_exponent": [0.0, -1.0]}),
                 ["figures[0]", "'expected_exponent'", "no swept 'hue'"],
                 id="expected-exponents-without-hue"),
    pytest.param(config_with({"kind": "loglog", "x": "drive", "y": "current",
                              "hue": "temperature", "expected_exponent": [0.0, -1.0, -0.5]},
                             sweep_spec={"drive": [0.2, 0.4], "temperature": [1.0, 2.0]}),
                 ["figures[0]", "'expected_exponent'", "3 exponents for 2 values"],
                 id="expected-exponents-count"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "expected_exponent": -1.0}),
                 ["figures[0]", "'expected_exponent'", "only loglog"],
                 id="expected-exponent-on-line"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "minimum_over": "drive"}),
                 ["figures[0]", "'minimum_over'", "another swept axis"], id="minimum-over-x"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "minimum_over": "spin"}),
                 ["figures[0]", "'minimum_over'", "'spin'", "not a swept axis"],
                 id="minimum-over-unknown"),
    pytest.param(config_with({"kind": "heatmap", "x": "drive", "y": "temperature",
                              "value": "current", "minimum_over": "drive"},
                             sweep_spec={"drive": [0.2, 0.4], "temperature": [1.0, 2.0]}),
                 ["figures[0]", "'minimum_over'", "only line"], id="minimum-over-heatmap"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current", "vmin": 2.0}),
                 ["figures[0]", "'vmin'", "only heatmap"], id="vmin-on-line"),
    pytest.param(config_with({"kind": "heatmap", "x": "drive", "y": "temperature",
                              "value": "current", "vmin": 3.0, "vmax": 2.0},
                             sweep_spec={"drive": [0.2, 0.4], "temperature": [1.0, 2.0]}),
                 ["figures[0]", "'vmin'", "not below 'vmax'"], id="vmin-above-vmax"),
    pytest.param(config_with({"kind": "heatmap", "x": "drive", "y": "temperature",
                              "value": "current", "logz": True, "vmin": 0.0},
                             sweep_spec={"drive": [0.2, 0.4], "temperature": [1.0, 2.0]}),
                 ["figures[0]", "'vmin'", "logz"], id="log-scale-from-zero"),
    pytest.param(config_with({"kind": "heatmap", "x": "drive", "y": "temperature",
                              "value": "current", "contours": ["two"]},
                             sweep_spec={"drive": [0.2, 0.4], "temperature": [1.0, 2.0]}),
                 ["figures[0]", "contours", "number"], id="contour-not-a-number"),
    pytest.param(config_with({**CHIMERA, "x": "current"}),
                 ["figures[0]", "'x'", "no model dimension"], id="spectrum-x-scalar"),
    pytest.param(config_with({**CHIMERA, "reference": ["occupation_profile"]}),
                 ["figures[0]", "'reference'", "occupation_profile"], id="spectrum-other-dim"),
    pytest.param(config_with({**CHIMERA, "hue": "drive"}),
                 ["figures[0]", "'hue'", "facet"], id="spectrum-hue"),
    pytest.param(config_with(ROW_CUT, **ASEP),
                 ["figures[0]", "'select'", "site_i"], id="row-cut-without-row"),
    pytest.param(config_with({**ROW_CUT, "select": {"site_i": 0}}, **ASEP),
                 ["figures[0]", "'select'", "site_i=0", "index"], id="row-index-zero"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "offdiagonal": True}),
                 ["figures[0]", "'offdiagonal'", "select"], id="offdiagonal-without-cut"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "caption": "../secrets.rst"}),
                 ["figures[0]", "caption"], id="caption-outside-report-dir"),
    pytest.param(config_with({"kind": "line", "x": "drive", "y": "current",
                              "caption": "no_such.rst"}),
                 ["figures[0]", "'caption'", "'no_such.rst'"], id="caption-missing"),
]


@pytest.mark.parametrize("config, words", BAD_FIGURES)
def test_bad_figure_option_is_a_config_error_naming_the_key(config, words):
    """Through configs.load_config: the schema check and the model check the workflow runs."""
    with pytest.raises(configs.ConfigError) as info:
        configs.load_config(config, SCHEMA)
    message = str(info.value)
    assert "study 'bad_study'" in message and "\n" not in message
    for word in words:
        assert word in message, message


def test_good_figure_options_pass_and_get_schema_defaults():
    config = config_with({**ROW_CUT, "select": {"site_i": 2}, "offdiagonal": True}, **ASEP)
    config["studies"]["bad_study"]["figures"].append(CHIMERA | {"logy": True})
    config["studies"]["bad_study"]["model"] = "asep"
    with pytest.raises(configs.ConfigError, match="mode_energy"):  # not an asep observable
        configs.load_config(config, SCHEMA)
    config["studies"]["bad_study"]["figures"].pop()
    studies = configs.load_config(config, SCHEMA)
    (figure,) = studies["bad_study"].figures
    assert figure["logy"] is False and figure["contours"] == [] and figure["caption"] is None
    chimera = configs.load_config(config_with(CHIMERA | {"caption": "wire_chimera.rst"}),
                                SCHEMA)["bad_study"].figures[0]
    assert chimera["kind"] == "spectrum" and chimera["vmin"] is None


@pytest.mark.slow
def test_workflow_stops_on_a_bad_figure_option_and_a_missing_caption(tmp_path,
                                                                     snakemake_runner):
    for figure, words in (
            ({"kind": "line", "x": "drive", "y": "current", "logy": "yes"}, ["logy"]),
            ({"kind": "line", "x": "drive", "y": "current", "caption": "no_such.rst"},
             ["'caption'", "'no_such.rst'", "workflow/report"])):
        configfile = tmp_path / "config.yaml"
        configfile.write_text(yaml.safe_dump(config_with(figure)))
        result = snakemake_runner(tmp_path, configfile, "-n")
        output = result.stdout + result.stderr
        assert result.returncode != 0 and "Traceback" not in output
        lines = [ln for ln in output.splitlines() if ln.startswith("config error:")]
        assert len(lines) == 1, output
        assert "study 'bad_study'" in lines[0]
        assert all(word in lines[0] for word in words), lines[0]
        assert not (tmp_path / "results").exists()


def test_no_warning_for_positive_log_axis():
    ds = dataset({"gap": ("drive", [1.0, 0.1, 0.01])}, {"drive": [0.0, 1.0, 2.0]}, ["drive"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert plots.line_figure(ds, {"x": "drive", "y": "gap", "logy": True}
                                 ).axes[0].get_yscale() == "log"
