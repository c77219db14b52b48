"""A bad config stops the workflow before any job, with one line naming study and key."""

from __future__ import annotations

import pytest
import yaml

from ness_core import configs
from ness_core.errors import ParameterError


def study(**spec):
    base = {"model": "climate", "sweep": {"drive": [0.0, 1.0]}}
    base.update(spec)
    return {"studies": {"bad_study": base}}


# (config, words the message must contain besides the study name)
BAD_CONFIGS = [
    pytest.param(study(model="weather"), ["model", "weather", "climate"], id="unknown-model"),
    pytest.param(study(sweep={"wind": [1.0]}), ["sweep 'wind'", "no parameter"],
                 id="unknown-swept-param"),
    pytest.param(study(fixed={"wind": 1.0}), ["fixed 'wind'", "no parameter"],
                 id="unknown-fixed-param"),
    pytest.param(study(sweep={"temperature": [1.0, -0.5]}), ["sweep 'temperature'", "-0.5"],
                 id="out-of-range-swept"),
    pytest.param(study(fixed={"nu": 0.0}), ["fixed 'nu'", "(0, inf)"], id="out-of-range-fixed"),
    pytest.param(study(sweep={"drive": []}), ["sweep 'drive'", "empty"], id="empty-sweep-list"),
    pytest.param(study(sweep={}), ["sweep"], id="no-swept-parameter"),
    pytest.param(study(sweep={"drive": {"start": 0, "stop": 1, "num": 0}}),
                 ["sweep 'drive'", "num"], id="range-num-zero"),
    pytest.param(study(sweep={"temperature": {"start": 0.0, "stop": 1.0, "num": 3,
                                              "scale": "log"}}),
                 ["sweep 'temperature'", "log"], id="log-range-from-zero"),
    pytest.param(study(sweep={"drive": {"start": 2.0, "stop": 1.0, "num": 3}}),
                 ["sweep 'drive'", "start"], id="range-stop-below-start"),
    pytest.param(study(fixed={"drive": 1.0}), ["drive", "both swept and fixed"],
                 id="swept-and-fixed"),
    pytest.param(study(figures=[{"kind": "line", "x": "temperature", "y": "current"}]),
                 ["figures[0]", "temperature", "not a swept axis"], id="figure-axis-not-swept"),
]


@pytest.mark.parametrize("config, words", BAD_CONFIGS)
def test_parse_config_names_study_and_key(config, words):
    with pytest.raises(ParameterError) as info:
        configs.parse_config(config)
    message = str(info.value)
    assert "study 'bad_study'" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("config, words", BAD_CONFIGS)
def test_snakemake_dry_run_fails_cleanly(config, words, tmp_path, snakemake_runner):
    configfile = tmp_path / "config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    result = snakemake_runner(tmp_path, configfile, "-n")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Traceback" not in output and 'File "' not in output
    lines = [line for line in output.splitlines() if line.startswith("config error:")]
    assert len(lines) == 1, output
    assert "study 'bad_study'" in lines[0]
    for word in words[:1]:
        assert word.split("[")[0] in lines[0]
    assert not (tmp_path / "results").exists()  # nothing planned, nothing run


def test_good_config_parses_with_coerced_values():
    studies = configs.parse_config(study(sweep={"drive": {"start": 0, "stop": 1, "num": 3}},
                                       fixed={"barrier": "2.5"}))
    s = studies["bad_study"]
    assert s.axes == {"drive": [0.0, 0.5, 1.0]} and s.fixed == {"barrier": 2.5}
