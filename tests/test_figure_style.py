"""Figure kinds declared once, default figures, and the publication style of every figure:
labels from the models' symbols and units, stacked panels, readable colour bars, TrueType
fonts in PDF and byte-identical files from the same data.

Figures are drawn from small real datasets (a few exact points of climate, TASEP and the
wire) and checked through the matplotlib objects and the bytes they produced.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml
from matplotlib.mathtext import MathTextParser

from ness_core import configs, dataset, evaluate, figures, plots
from ness_core.errors import ConfigError
from ness_core.models import MODELS, get_model

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


def real_dataset(tmp_path: Path, name: str, spec: dict):
    """The dataset of study ``spec`` built as the workflow builds it: every point
    evaluated, one chunk file, assembled on the grid and made CF-compliant."""
    study = configs.parse_config({"studies": {name: spec}})[name]
    points = study.points()
    chunk = dataset.chunk_dataset(study.model, [p.id for p in points],
                                  [evaluate(study.model, **p.params) for p in points])
    path = tmp_path / f"{name}.chunk.nc"
    dataset.write_netcdf(chunk, path)
    return dataset.assemble(study, [path])


CLIMATE = {"model": "climate", "sweep": {"drive": {"start": 0, "stop": 2, "num": 5},
                                         "temperature": [0.5, 1.0]}}
TASEP = {"model": "asep", "sweep": {"rho_left": [0.2, 0.5, 0.8], "rho_right": [0.2, 0.5, 0.8]},
         "fixed": {"L": 4, "method": "exact"}}
TASEP_L = {"model": "asep", "sweep": {"L": [3, 4, 5, 6]},
           "fixed": {"alpha": 1.0, "beta": 1.0, "method": "exact"}}
WIRE = {"model": "wire", "sweep": {"drive": [0.0, 0.5]}, "fixed": {"N": 5}}
# one figure of every kind, each with options of its own
FIGURES = {
    "line": (CLIMATE, {"kind": "line", "x": "drive", "y": ["current", "entropy_production",
                                                           "gap"], "hue": "temperature"}),
    "heatmap": (TASEP, {"kind": "heatmap", "x": "rho_left", "y": "rho_right", "value": "gap",
                        "logz": True, "overlay": "phase_boundaries"}),
    "loglog": (TASEP_L, {"kind": "loglog", "x": "L", "y": "gap"}),
    "spectrum": (WIRE, {"kind": "spectrum", "x": "mode_energy",
                        "y": ["occupation_right_movers", "occupation_left_movers"],
                        "reference": ["fermi_left", "fermi_right"]}),
}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("data")
    return {kind: real_dataset(tmp, f"s_{kind}", study) for kind, (study, _) in FIGURES.items()}


def test_schema_figure_block_is_the_declaration_of_ness_core_figures():
    schema = yaml.safe_load(SCHEMA.read_text())
    assert schema["$defs"]["figure"] == figures.schema()
    assert figures.readme_table() in (REPO / "config" / "README.md").read_text()
    assert set(plots.FIGURES) == set(figures.KINDS)
    for option in figures.OPTIONS.values():
        assert set(option.kinds or figures.KINDS) <= set(figures.KINDS), option.name


def test_a_study_without_figures_gets_current_entropy_production_and_gap_figures():
    config = {"studies": {
        "three": {"model": "climate", "sweep": {"drive": {"start": 0, "stop": 2, "num": 6},
                                                "temperature": [0.5, 1.0, 1.5, 2.0, 3.0],
                                                "barrier": [0.5, 1.0]}},
        "short": {"model": "climate", "sweep": {"drive": [0.0, 1.0],
                                                "temperature": [0.5, 1.0]}, "figures": []},
        "one": {"model": "climate", "sweep": {"temperature": [0.5, 1.0]}}}}
    studies = configs.load_config(config, SCHEMA)
    three = studies["three"].figures
    line = three[0]
    assert (line["kind"], line["x"], line["y"], line["hue"], line["facet"]) == (
        "line", "drive", ["current", "entropy_production", "gap"], "temperature", "barrier")
    # drive (6 values) and temperature (5) are numeric and dense: a heatmap of each
    heatmaps = [(f["kind"], f["x"], f["y"], f["value"]) for f in three[1:]]
    assert heatmaps == [("heatmap", "drive", "temperature", v)
                        for v in ("current", "entropy_production", "gap")]
    assert [f["kind"] for f in studies["short"].figures] == ["line"]  # 2 × 2: no heatmap
    one = studies["one"].figures
    assert len(one) == 1 and one[0]["x"] == "temperature" and one[0]["hue"] is None
    names = [figures.figure_name(f) for f in three]
    assert names == ["line_current-entropy_production-gap_vs_drive",
                     "heatmap_current_vs_drive", "heatmap_entropy_production_vs_drive",
                     "heatmap_gap_vs_drive"]
    assert all(re.fullmatch(configs.NAME_PATTERN, n) for n in names)
    # every option has its declared default, as the schema gives figures written out
    assert all(f["labels"] == "long" and f["title"] is None and f["dpi"] == 150 for f in three)


def test_default_figures_draw(datasets, tmp_path):
    ds = datasets["line"]
    study = configs.parse_config({"studies": {"s_line": CLIMATE}})["s_line"]
    for fig in study.figures:
        plots.draw(ds, fig, [tmp_path / f"{figures.figure_name(fig)}.png"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "line_current-entropy_production-gap_vs_drive.png"]


@pytest.mark.parametrize("kind", list(FIGURES))
def test_pdf_embeds_truetype_fonts_and_redrawing_gives_identical_bytes(kind, datasets,
                                                                       tmp_path):
    _, spec = FIGURES[kind]
    spec = figures.with_defaults({**spec, "labels": "symbol"})  # TeX symbols: mathtext fonts
    first, second = tmp_path / "a", tmp_path / "b"
    plots.draw(datasets[kind], spec, [first / "f.png", first / "f.pdf"])
    plots.draw(datasets[kind], spec, [second / "f.png", second / "f.pdf"])
    pdf = (first / "f.pdf").read_bytes()
    assert b"/Type3" not in pdf and b"/FontFile2" in pdf  # TrueType (Type 42) fonts
    assert b"/CreationDate" not in pdf
    for name in ("f.png", "f.pdf"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_default_config_draws_only_kinds_checked_for_fonts():
    config = configs.read_config_file(REPO / "config" / "config.yaml")
    kinds = {f["kind"] for s in config["studies"].values() for f in s.get("figures") or []}
    assert kinds <= set(FIGURES)


def test_every_declared_symbol_is_valid_mathtext():
    parser = MathTextParser("agg")
    for name in MODELS:
        m = get_model(name)
        for decl in (*m.parameters, *m.all_observables()):
            if decl.symbol:
                assert decl.symbol.startswith("$") and decl.symbol.endswith("$"), decl
                parser.parse(decl.symbol, dpi=72)
        for unit in m.natural_units.values():
            parser.parse(unit, dpi=72)


def test_labels_read_symbol_and_unit_or_long_name_and_the_models_own_unit(datasets):
    ds = datasets["line"]
    m = get_model("climate")
    current = m.observable("current")
    assert plots.axis_label(ds["current"], "symbol", m) == f"{current.symbol} [{current.unit}]"
    long = plots.axis_label(ds["current"], "long", m).replace("\n", " ")
    assert long == f"{current.long_name} [{current.unit}]"
    # plasma declares temperatures by name only: labels show its temperature unit T_*
    plasma = get_model("plasma")
    var = ds["current"].copy()
    var.attrs.update(long_name="core temperature T(0)", units="1", model_units="temperature")
    assert plots.axis_label(var, "long", plasma) == "core temperature T(0) [$T_*$]"
    var.attrs["model_units"] = "k_B/(time·volume)"
    assert plots.model_unit(var, plasma) == r"k_B/($\tau_\kappa$·volume)"


def test_long_labels_wrap_at_spaces_never_inside_a_word(datasets):
    var = datasets["line"]["current"].copy()
    text = "entropy_production of the cycle between the warm and icy states"
    var.attrs = {"long_name": text, "units": "1"}
    lines = plots.axis_label(var, width=12).split("\n")
    assert len(lines) > 1 and " ".join(lines) == text  # breaks replace spaces only
    assert "entropy_production" in lines


def test_stacked_panels_share_x_with_one_x_label_one_legend_and_panel_letters(datasets):
    with plots.apply_style({}):
        fig = plots.line_figure(datasets["line"], figures.with_defaults(FIGURES["line"][1]))
    axs = fig.axes
    assert len(axs) == 3
    assert [ax.get_xlabel() != "" for ax in axs] == [False, False, True]
    assert all(axs[0].get_shared_x_axes().joined(axs[0], ax) for ax in axs)
    assert [ax.get_title(loc="left") for ax in axs] == ["(a)", "(b)", "(c)"]
    assert all(ax.get_legend() is None for ax in axs) and len(fig.legends) == 1
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["0.5", "1"]
    assert fig._suptitle is None  # no title by default; the study id is not one
    plt.close(fig)


def test_log_colour_bar_ticks_are_plain_numbers(datasets):
    _, spec = FIGURES["heatmap"]
    with plots.apply_style({}):
        fig = plots.heatmap_figure(datasets["heatmap"], figures.with_defaults(spec))
        fig.canvas.draw()
    bar = fig.axes[-1]
    labels = [t.get_text() for t in bar.get_yticklabels(minor=False)
              + bar.get_yticklabels(minor=True) if t.get_text()]
    assert labels and all(re.fullmatch(r"[0-9.e+\u2212-]+", t) for t in labels), labels
    plt.close(fig)


def test_spectrum_y_label_names_every_observable_on_the_axis(datasets):
    _, spec = FIGURES["spectrum"]
    with plots.apply_style({}):
        fig = plots.spectrum_figure(datasets["spectrum"], figures.with_defaults(spec))
    ylabel = fig.axes[0].get_ylabel().replace("\n", " ")
    wire = get_model("wire")
    assert ylabel and all(wire.observable(n).long_name in ylabel
                          for n in ("occupation_right_movers", "fermi_left"))
    plt.close(fig)


def test_size_presets_and_explicit_sizes_in_inches(datasets):
    ds, spec = datasets["line"], figures.with_defaults(FIGURES["line"][1])
    for size, (width, height) in (("single", (3.4, 3 * 2.55)), ("double", (7.0, 3 * 2.8)),
                                  ([5.0, 4.0], (5.0, 4.0))):
        with plots.apply_style({}):
            fig = plots.line_figure(ds, {**spec, "size": size})
        np.testing.assert_allclose(fig.get_size_inches(), (width, height))
        plt.close(fig)


def test_style_is_a_matplotlib_style_or_a_file_else_a_config_error(tmp_path, monkeypatch):
    spec = {"model": "climate", "sweep": {"drive": [0.0, 1.0]},
            "figures": [{"kind": "line", "x": "drive", "y": ["current"], "style": "classic"}]}
    configs.parse_config({"studies": {"s": spec}})
    sheet = tmp_path / "paper.mplstyle"
    sheet.write_text("lines.linewidth: 3\n")
    spec["figures"][0]["style"] = str(sheet)
    configs.parse_config({"studies": {"s": spec}})
    with plots.apply_style({"style": str(sheet)}):
        assert plt.rcParams["lines.linewidth"] == 3
    assert plt.rcParams["lines.linewidth"] != 3  # nothing outside the context changes
    spec["figures"][0]["style"] = "no-such-style"
    with pytest.raises(ConfigError, match=r"figures\[0\] 'style': 'no-such-style'"):
        configs.parse_config({"studies": {"s": spec}})
    try:
        import scienceplots  # noqa: F401
    except ImportError:
        spec["figures"][0]["style"] = "science"
        with pytest.raises(ConfigError, match="SciencePlots is not installed"):
            configs.parse_config({"studies": {"s": spec}})
