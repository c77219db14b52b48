"""Whatever a config file holds, `ness plan` and Snakemake end in a plan or one
`config error:` line, with no traceback, before any job, and write nothing outside results/.

The files below are the reproductions of hostile input (names that are paths, alias bombs,
duplicate keys, templates, deep nesting, huge grids and numbers, figures that cannot be
drawn); a hypothesis test then throws random structures at the loader.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ness_core import cli, evaluate, get_model
from ness_core.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = Path(sys.executable).with_name("snakemake")

CLIMATE = "{model: climate, sweep: {drive: [0.5, 1.0]}}"
ALIAS_BOMB = "\n".join(
    ["a: &a {x: 1, y: 2}"]
    + [f"{c}: &{c} {{" + ", ".join(f"{c}{i}: *{p}" for i in range(9)) + "}"
       for p, c in zip("abcdefg", "bcdefgh", strict=True)]
    + ["studies: {s: " + CLIMATE + "}"])

# file text, words the one error line must hold (None: the file is a valid config)
HOSTILE = {
    "path-name": ('studies:\n  "../x": ' + CLIMATE, ["study '../x'", "not a valid name"]),
    "absolute-name": ('studies:\n  "/tmp/x": ' + CLIMATE, ["'/tmp/x'", "not a valid name"]),
    "bracket-name": ('studies:\n  "a(b": ' + CLIMATE, ["'a(b'", "not a valid name"]),
    "star-name": ('studies:\n  "*": ' + CLIMATE, ["'*'", "not a valid name"]),
    "pipe-name": ('studies:\n  "a|b": ' + CLIMATE, ["'a|b'", "not a valid name"]),
    "empty-name": ('studies:\n  "": ' + CLIMATE, ["''", "not a valid name"]),
    "integer-name": ("studies:\n  1: " + CLIMATE, ["1", "int", "quote it"]),
    "null-name": ("studies:\n  ~: " + CLIMATE, ["None", "quote it"]),
    "yes-name": ("studies:\n  yes: " + CLIMATE, ["True", "quote it"]),
    "alias-bomb": (ALIAS_BOMB, ["aliases", "more than 10000 values"]),
    "few-aliases": ("studies:\n  ok.study-1: &b {model: climate, sweep: {drive: [0.5, 1]}}"
                    "\n  other:\n    <<: *b\n    fixed: {barrier: 2.0}\n", None),
    "duplicate-study": ("studies:\n  a: " + CLIMATE + "\n  a: " + CLIMATE,
                        ["line 3", "duplicate key 'a'", "first at line 2"]),
    "duplicate-axis": ("studies:\n  a:\n    model: climate\n    sweep:\n      drive: [1]\n"
                       "      drive: [2]\n", ["line 6", "duplicate key 'drive'"]),
    "second-studies-block": ("studies:\n  a: " + CLIMATE + "\nstudies:\n  b: " + CLIMATE,
                             ["duplicate key 'studies'"]),
    "yte-template": ("__use_yte__: true\nstudies:\n  a:\n    model: climate\n"
                     "    sweep: {drive: [1]}\n", ["__use_yte__", "plain data"]),
    "deep-nesting": ("studies: {a: {model: climate, sweep: {drive: " + "[" * 500 + "]" * 500
                     + "}}}", ["nested deeper"]),
    "huge-num": ("studies:\n  a: {model: climate, sweep: {drive: {start: 0, stop: 1, "
                 "num: 1000000000000}}}", ["study 'a'", "max_points_per_study", "raise"]),
    "num-2-63": ("studies:\n  a: {model: climate, sweep: {drive: {start: 0, stop: 1, "
                 "num: 9223372036854775808}}}", ["study 'a'", "max_points_per_study"]),
    "big-grid": ("studies:\n  a: {model: climate, sweep: {drive: {start: 0, stop: 1, "
                 "num: 3000}, temperature: {start: 0.1, stop: 1, num: 3000}}}",
                 ["9e+06 points", "drive 3000 × temperature 3000"]),
    "raised-limit-still-small": ("max_points_per_study: 10\nstudies:\n  a: {model: climate, "
                                 "sweep: {drive: {start: 0, stop: 1, num: 11}}}",
                                 ["max_points_per_study = 10"]),
    "400-digit-float": ("studies:\n  a: {model: climate, sweep: {drive: [" + "9" * 400
                        + "]}}", ["sweep 'drive'", "is not allowed"]),
    "heatmap-x-is-y": ("studies:\n  a:\n    model: climate\n    sweep: {drive: [0, 1], "
                       "temperature: [0.5, 1]}\n    figures: [{kind: heatmap, x: drive, "
                       "y: drive, value: current}]\n", ["figures[0] 'y'", "already 'x'"]),
    "hue-is-x": ("studies:\n  a:\n    model: climate\n    sweep: {drive: [0, 1], "
                 "temperature: [0.5, 1]}\n    figures: [{kind: line, x: drive, hue: drive, "
                 "y: current}]\n", ["figures[0] 'hue'", "already 'x'"]),
    "repeated-y": ("studies:\n  a:\n    model: climate\n    sweep: {drive: [0, 1]}\n"
                   "    figures: [{kind: line, x: drive, y: [current, current]}]\n",
                   ["figures[0] 'y'", "twice"]),
    "fit-window-reversed": ("studies:\n  a:\n    model: climate\n    sweep: {drive: [1, 2]}\n"
                            "    figures: [{kind: loglog, x: drive, y: current, fit_min: 2, "
                            "fit_max: 1}]\n", ["fit_min", "not below"]),
    "long-figure-name": ("studies:\n  a:\n    model: climate\n    sweep: {drive: [1, 2]}\n"
                         "    figures: [{kind: line, x: drive, y: current, name: "
                         + "f" * 300 + "}]\n", ["figures[0]", "not a valid name"]),
    "select-beyond-chain": ("studies:\n  a:\n    model: asep\n    sweep: {alpha: [0.3, 0.6]}\n"
                            "    fixed: {L: 6, method: exact, fluctuations: true}\n"
                            "    figures: [{kind: line, x: site_j, y: density_correlation, "
                            "select: {site_i: 99}}]\n",
                            ["select", "site_i=99", "6 entries"]),
    "empty-reaction-side": ("studies:\n  a:\n    model: network\n    sweep: {k: [1, 2]}\n"
                            "    network:\n      parameters: {k: 1}\n"
                            "      species: {A: {initial: 1}, E: {initial: 1}}\n"
                            "      reactions:\n        r: {equation: 'A + E <-> ', rate: k}\n",
                            ["empty side", "write 0"]),
    "math-letter-parameter": ("studies:\n  a:\n    model: network\n    sweep: {k1: [1, 2]}\n"
                              "    network:\n      parameters: {k1: 1}\n"
                              "      species: {A: {initial: 1}, B: {initial: 1}}\n"
                              "      reactions:\n        r: {equation: 'A <-> B', "
                              "rate: '\U0001d4c01'}\n", ["outside ASCII"]),
    "valid": ("studies:\n  ok.study-1: " + CLIMATE, None),
}


def _plan(path: Path, workdir: Path, capsys) -> tuple[int, str, str]:
    code = cli.main(["plan", str(path), "-d", str(workdir)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def alarm():
    """Fail instead of hanging: a test step taking over 20 s raises."""
    def on_alarm(signum, frame):
        raise TimeoutError("the config took over 20 s")
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("case", HOSTILE)
def test_ness_plan_gives_one_config_error_line(case, tmp_path, capsys, alarm):
    text, words = HOSTILE[case]
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = _plan(path, tmp_path, capsys)
    if words is None:
        assert code == 0 and err == "" and "ok.study-1" in out
        return
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("config error: "), err
    assert "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml"]  # nothing written


SNAKEMAKE_CASES = ["path-name", "integer-name", "duplicate-axis", "second-studies-block",
                   "big-grid", "heatmap-x-is-y", "valid"]


@pytest.mark.parametrize("case", SNAKEMAKE_CASES)
def test_snakemake_gives_the_same_verdict_as_ness_plan(case, tmp_path, capsys):
    """Snakemake reads --configfile with its own loader first; the workflow reads the file
    again as `ness plan` does, so both refuse it with the same line, and nothing lands
    outside the working directory's results/ (nor, for a bad file, anywhere)."""
    text, words = HOSTILE[case]
    outside = tmp_path / "outside"
    workdir = outside / "work"
    workdir.mkdir(parents=True)
    path = outside / "config.yaml"
    path.write_text(text, encoding="utf-8")
    code, _, plan_err = _plan(path, workdir, capsys)
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-n", "--cores", "1",
                          "--configfile", str(path), "-d", str(workdir)],
                         capture_output=True, text=True, timeout=300)
    errors = [line for line in run.stderr.splitlines() if line.startswith("config error")]
    if words is None:
        assert run.returncode == 0 and not errors, run.stderr[-2000:]
    else:
        assert run.returncode != 0 and "Traceback" not in run.stderr
        # the file's name may be written relative or absolute: compare what follows it
        assert errors and errors[0].split(".yaml")[-1] == plan_err.strip().split(".yaml")[-1]
        assert {p.name for p in workdir.iterdir()} <= {".snakemake"}
    assert sorted(p.name for p in outside.iterdir()) == ["config.yaml", "work"]


def test_default_config_is_read_strictly_not_by_snakemake(tmp_path):
    """With no --configfile the workflow reads config/config.yaml itself: a YTE template
    there is refused and never run."""
    (tmp_path / "config").mkdir()
    marker = tmp_path / "ran"
    (tmp_path / "config" / "config.yaml").write_text(
        "__use_yte__: true\nstudies:\n  a:\n    model: climate\n    sweep: {drive: [1]}\n"
        f"    fixed:\n      barrier: ?[__import__('pathlib').Path('{marker}').touch() or 1]\n")
    run = subprocess.run([str(SNAKEMAKE), "-s", str(ROOT / "Snakefile"), "-n", "--cores", "1",
                          "-d", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "__use_yte__" in run.stderr
    assert not marker.exists()


NAMES = st.one_of(st.text(max_size=12), st.integers(), st.none(), st.booleans(),
                  st.floats(allow_nan=False))
SCALARS = st.one_of(st.integers(min_value=-10**500, max_value=10**500), st.floats(),
                    st.text(max_size=8), st.booleans(), st.none())


def _yaml_of(value) -> str:
    """Flow-style YAML of nested dicts/lists/scalars (keys written as given, so
    duplicates and odd keys survive; strings quoted as JSON)."""
    import json

    if isinstance(value, dict):
        return "{" + ", ".join(f"{_yaml_of(k)}: {_yaml_of(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_yaml_of(v) for v in value) + "]"
    if isinstance(value, float) and value != value:
        return ".nan"
    if isinstance(value, float) and abs(value) == float("inf"):
        return ".inf" if value > 0 else "-.inf"
    return json.dumps(value)


STRUCTURES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(NAMES, inner, max_size=4)), max_leaves=20)
SWEEPS = st.dictionaries(st.sampled_from(["drive", "temperature", "barrier", "nu", "wind"]),
                         st.one_of(st.lists(SCALARS, max_size=4),
                                   st.fixed_dictionaries({"start": SCALARS, "stop": SCALARS,
                                                          "num": SCALARS}), STRUCTURES),
                         max_size=3)
STUDIES = st.dictionaries(NAMES, st.fixed_dictionaries(
    {"model": st.sampled_from(["climate", "asep", "nonsense"]), "sweep": SWEEPS},
    optional={"fixed": STRUCTURES, "figures": STRUCTURES}), max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(studies=STUDIES, extra=st.one_of(st.none(), STRUCTURES),
       aliases=st.booleans(), duplicate=st.booleans())
def test_random_configs_end_in_a_plan_or_one_error_line(studies, extra, aliases, duplicate,
                                                        tmp_path_factory, capsys):
    workdir = tmp_path_factory.mktemp("plan")
    text = "studies: " + _yaml_of(studies)
    if extra is not None:
        text = "extra: " + _yaml_of(extra) + "\n" + text
    if aliases:
        text = "anchor: &x [1, 2]\n" + text.replace("[", "[*x, ", 1)
    if duplicate:
        text += "\nstudies: {}"
    path = workdir / "config.yaml"
    path.write_text(text, encoding="utf-8")
    signal.alarm(20)
    try:
        code, out, err = _plan(path, workdir, capsys)
    finally:
        signal.alarm(0)
    assert code in (0, 2)
    if code == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith(("config error:",
                                                                      "error:")), err
    assert sorted(p.name for p in workdir.iterdir()) == ["config.yaml"]


@pytest.mark.parametrize("name", ["\n", "a\nb", "tab\there", "line\u2028sep"])
def test_a_name_with_control_characters_is_named_escaped_on_one_line(name, tmp_path, capsys):
    """A study name holding a line break (found by a 1500-example run of the test above)
    is shown escaped, so the error stays one line."""
    import json

    path = tmp_path / "config.yaml"
    path.write_text("studies: {" + json.dumps(name) + ": {model: climate, sweep: {}}}",
                    encoding="utf-8")
    code, out, err = _plan(path, tmp_path, capsys)
    assert code == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("config error: study '") and repr(name)[1:-1] in err, err
    assert "not a valid name" in err


@pytest.mark.parametrize("value", ["1_000", "\u0661", "\uff11", b"1", "0x10", "1e", "--1",
                                   10**400, "9" * 5000, "nan"])
def test_numbers_are_plain_decimal_or_scientific(value):
    with pytest.raises(ParameterError, match="parameter 'drive'"):
        evaluate("climate", drive=value)


@pytest.mark.parametrize("text, value", [("1e-1", 0.1), (" .5 ", 0.5), ("5.", 5.0),
                                         ("-2E+0", -2.0), ("+3", 3.0)])
def test_plain_spellings_of_numbers_are_read(text, value):
    assert get_model("climate").parameter("drive").coerce(text) == value


def test_cli_json_stdout_is_one_object_even_when_lapack_complains():
    """Library noise (LAPACK's XERBLA lines go to file descriptor 1) goes to stderr."""
    run = subprocess.run([sys.executable, "-m", "ness_core.cli", "point", "corrosion",
                          "drive=1", "layer_thickness=1e300", "--json"],
                         capture_output=True, text=True, timeout=120)
    import json

    assert run.returncode == 0, run.stderr
    assert isinstance(json.loads(run.stdout), dict)


def test_cli_output_into_a_closed_pipe_is_quiet():
    run = subprocess.run(f"{sys.executable} -m ness_core.cli models wire | head -c 10",
                         shell=True, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert "Traceback" not in run.stderr and "BrokenPipe" not in run.stderr


@pytest.mark.parametrize("args, words", [
    (["--max-mem-mb", "-5"], ["--max-mem-mb", "'-5'"]),
    (["--max-mem-mb", "nan"], ["'nan'"]), (["--max-mem-mb", "inf"], ["'inf'"]),
    (["-d", "/no/such/dir"], ["no such directory"]),
])
def test_plan_refuses_bad_options(args, words, tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("studies:\n  a: " + CLIMATE)
    assert cli.main(["plan", str(path), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and all(w in err for w in words), err


def test_a_caption_of_the_users_own_directory_is_found(tmp_path, capsys):
    """`caption:` is a path relative to the working directory (the user's repository), else
    a file of workflow/report/; neither is one config error naming both places."""
    (tmp_path / "captions").mkdir()
    (tmp_path / "captions" / "mine.rst").write_text("My figure.\n")
    figure = "{kind: line, x: drive, y: current, caption: %s}"
    path = tmp_path / "config.yaml"
    for caption, code in (("captions/mine.rst", 0), ("tur_heatmap_climate.rst", 0),
                          ("captions/missing.rst", 2)):
        path.write_text("studies:\n  a: {model: climate, sweep: {drive: [0.5, 1.0]}, "
                        f"figures: [{figure % caption}]}}\n")
        assert cli.main(["plan", str(path), "-d", str(tmp_path)]) == code
    err = capsys.readouterr().err
    assert "'captions/missing.rst'" in err and str(tmp_path) in err and "workflow" in err
