"""SBML import (mass-action subset) against the same networks written in config form and the
exact product-Poisson law; every construct outside the subset is refused by name and id."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import poisson

from ness_core import configs, evaluate, get_model
from ness_core.errors import ParameterError
from ness_core.models.network import model_name, normalize
from ness_core.networks import solve_cme
from ness_core.sbml import read_sbml, read_sbml_string

libsbml = pytest.importorskip("libsbml", reason="python-libsbml is not installed")


def document(species, reactions, parameters=(), volume=1.0, reversible=True):
    """An SBML L3V1 document: species (id, c0, boundary), reactions (id, {s: n}, {s: n}, law)."""
    doc = libsbml.SBMLDocument(3, 1)
    model = doc.createModel()
    model.setId("m")
    c = model.createCompartment()
    c.setId("cell")
    c.setSize(volume)
    c.setConstant(True)
    for sid, c0, boundary in species:
        s = model.createSpecies()
        s.setId(sid)
        s.setCompartment("cell")
        s.setInitialConcentration(c0)
        s.setHasOnlySubstanceUnits(False)
        s.setBoundaryCondition(boundary)
        s.setConstant(boundary)
    for pid, value in parameters:
        p = model.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(True)
    for rid, reactants, products, law in reactions:
        r = model.createReaction()
        r.setId(rid)
        r.setReversible(reversible)
        r.setFast(False)
        for refs, add in ((reactants, r.createReactant), (products, r.createProduct)):
            for sid, n in refs.items():
                ref = add()
                ref.setSpecies(sid)
                ref.setStoichiometry(n)
                ref.setConstant(True)
        r.createKineticLaw().setMath(libsbml.parseL3Formula(law))
    return doc


SCHLOGL_SPECIES = [("X", 1.0, False), ("A", 1.0, True), ("B", 1.0, True)]
SCHLOGL_PARAMETERS = [("k1", 6.0), ("k2", 1.0), ("k3", 11.0), ("k4", 6.0)]


def schlogl_sbml(volume=2.0):
    """Schlögl model; the first law carries the compartment factor, the second does not."""
    return document(SCHLOGL_SPECIES, [
        ("auto", {"X": 2, "A": 1}, {"X": 3}, "cell * (k1 * X^2 * A - k2 * X^3)"),
        ("exchange", {"X": 1}, {"B": 1}, "k3 * X - k4 * B"),
    ], SCHLOGL_PARAMETERS, volume=volume)


def test_schlogl_sbml_equals_the_network_written_in_config_form():
    """Per volume: auto keeps k1, k2 (law = V·rate); exchange becomes k3/V, k4/V (law = rate)."""
    volume = 2.0
    block = read_sbml_string(libsbml.writeSBMLToString(schlogl_sbml(volume)))
    imported = model_name(normalize(block))
    config = model_name(normalize({
        "parameters": {"A": 1.0, "B": 1.0},
        "species": {"X": {"initial": 1.0}},
        "chemostats": {"A": {"concentration": "A"}, "B": {"concentration": "B"}},
        "reactions": {"auto": {"equation": "2 X + A <-> 3 X", "rate": 6.0, "backward": 1.0},
                      "exchange": {"equation": "X <-> B", "rate": 11.0 / volume,
                                   "backward": 6.0 / volume}}}))
    for params in ({"A": 0.8}, {"A": 1.0, "B": 1.3}, {"A": 1.2, "form": "stochastic",
                                                      "volume": 4.0}):
        got, want = evaluate(imported, **params), evaluate(config, **params)
        for key in ("current", "entropy_production", "gap", "concentration_X", "flux_auto"):
            assert got[key] == pytest.approx(want[key], rel=1e-12, abs=1e-14)
    # and the steady state is a root of V·(6a x² − x³) = 11x − 6·1 written per volume
    x = evaluate(imported, A=1.2)["concentration_X"]
    assert 6 * 1.2 * x**2 - x**3 == pytest.approx((11 * x - 6) / volume, rel=1e-10)


def test_monomolecular_sbml_cme_is_the_exact_product_poisson_law():
    """S(boundary) <-> X <-> Y <-> P(boundary): Poisson means from the hand-solved ODE."""
    doc = document([("S", 2.0, True), ("X", 0.0, False), ("Y", 0.0, False), ("P", 0.5, True)], [
        ("feed", {"S": 1}, {"X": 1}, "cell * (kf * S - kb * X)"),
        ("convert", {"X": 1}, {"Y": 1}, "cell * (k1 * X - k2 * Y)"),
        ("drain", {"Y": 1}, {"P": 1}, "cell * (kd * Y - ku * P)"),
    ], [("kf", 1.5), ("kb", 1.0), ("k1", 0.8), ("k2", 0.4), ("kd", 1.2), ("ku", 0.3)])
    model = get_model(model_name(normalize(read_sbml_string(libsbml.writeSBMLToString(doc)))))
    kin = model.network.kinetics(model.resolve({}))
    # dX = 1.5·2 − X − 0.8X + 0.4Y, dY = 0.8X − 0.4Y − 1.2Y + 0.3·0.5
    mean = np.linalg.solve([[-1.8, 0.4], [0.8, -1.6]], [-3.0, -0.15])
    volume = 6.0
    cme = solve_cme(kin, volume, np.round(volume * mean).astype(int), tol=1e-12, gap=False)
    exact = (poisson.pmf(cme.states[:, 0], volume * mean[0])
             * poisson.pmf(cme.states[:, 1], volume * mean[1]))
    assert np.max(np.abs(cme.probabilities - exact)) < 1e-10


def test_local_parameters_become_reaction_scoped_network_parameters():
    doc = document([("X", 1.0, False)], [("decay", {"X": 1}, {}, "cell * k * X")],
                   [("k", 99.0)], reversible=False)
    law = doc.getModel().getReaction("decay").getKineticLaw()
    local = law.createLocalParameter()
    local.setId("k")
    local.setValue(0.25)
    block = read_sbml_string(libsbml.writeSBMLToString(doc))
    assert block["reactions"]["decay"] == {"equation": "X -> 0", "rate": "decay_k"}
    assert block["parameters"]["decay_k"]["default"] == 0.25
    assert block["parameters"]["k"]["default"] == 99.0  # the shadowed global one stays


def _with(build):
    doc = schlogl_sbml()
    build(doc.getModel())
    return libsbml.writeSBMLToString(doc)


def _law(rid, formula):
    def build(model):
        model.getReaction(rid).getKineticLaw().setMath(libsbml.parseL3Formula(formula))
    return build


def _event(model):
    e = model.createEvent()
    e.setId("pulse")
    e.setUseValuesFromTriggerTime(True)
    t = e.createTrigger()
    t.setMath(libsbml.parseL3Formula("time > 1"))
    t.setInitialValue(False)
    t.setPersistent(True)


def _assignment_rule(model):
    p = model.createParameter()
    p.setId("k5")
    p.setConstant(False)
    rule = model.createAssignmentRule()
    rule.setVariable("k5")
    rule.setMath(libsbml.parseL3Formula("2 * k1"))


def _rate_rule(model):
    model.getSpecies("X").setConstant(False)
    rule = model.createRateRule()
    rule.setVariable("X")
    rule.setMath(libsbml.parseL3Formula("k1"))


def _function(model):
    f = model.createFunctionDefinition()
    f.setId("hill")
    f.setMath(libsbml.parseL3Formula("lambda(x, x^2 / (1 + x^2))"))


def _second_compartment(model):
    c = model.createCompartment()
    c.setId("nucleus")
    c.setSize(0.1)
    c.setConstant(True)


def _fast(model):
    model.getReaction("exchange").setFast(True)


def _half_stoichiometry(model):
    model.getReaction("exchange").getReactant(0).setStoichiometry(0.5)


def _substance_units(model):
    model.getSpecies("X").setHasOnlySubstanceUnits(True)


def _no_law(model):
    model.getReaction("exchange").unsetKineticLaw()


OUTSIDE = [
    pytest.param(_event, "event 'pulse'", id="event"),
    pytest.param(_assignment_rule, "assignmentRule for 'k5'", id="assignment-rule"),
    pytest.param(_rate_rule, "rateRule for 'X'", id="rate-rule"),
    pytest.param(_function, "function definition 'hill'", id="function-definition"),
    pytest.param(_law("exchange", "cell * k3 * X / (k4 + X)"),
                 "reaction 'exchange': the kinetic law", id="michaelis-menten"),
    pytest.param(_law("exchange", "cell * k3 * X^2 - cell * k4 * B"),
                 "reaction 'exchange': the kinetic law", id="wrong-order"),
    pytest.param(_law("exchange", "cell * k3 * exp(X) - k4 * B"),
                 "reaction 'exchange': the kinetic law", id="exp-of-species"),
    pytest.param(_law("auto", "cell * (k1 * X^2 * A - k2 * X^3) * time"),
                 "reaction 'auto': the kinetic law", id="time"),
    pytest.param(_law("exchange", "cell * k3 * X - cell * k4 * B + k1"),
                 "reaction 'exchange': the kinetic law", id="extra-term"),
    pytest.param(_second_compartment, "2 compartments", id="two-compartments"),
    pytest.param(_fast, "reaction 'exchange': a fast reaction", id="fast"),
    pytest.param(_half_stoichiometry, "reaction 'exchange': stoichiometry 0.5",
                 id="non-integer-stoichiometry"),
    pytest.param(_substance_units, "species 'X': hasOnlySubstanceUnits", id="substance-units"),
    pytest.param(_no_law, "reaction 'exchange': no kinetic law", id="no-kinetic-law"),
]


@pytest.mark.parametrize(("build", "names"), OUTSIDE)
def test_constructs_outside_the_subset_are_refused_by_name_and_id(build, names):
    with pytest.raises(ParameterError) as info:
        read_sbml_string(_with(build), "SBML 'model.xml'")
    message = str(info.value)
    assert message.startswith("SBML 'model.xml': ") and names in message


def test_invalid_xml_and_missing_file_are_clear_errors(tmp_path):
    with pytest.raises(ParameterError, match="not valid SBML"):
        read_sbml_string("<sbml><model></sbml>")
    with pytest.raises(ParameterError, match="no such file"):
        read_sbml(tmp_path / "absent.xml")


def test_study_reads_sbml_relative_to_the_working_directory_and_hashes_its_content(
        tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    libsbml.writeSBMLToFile(schlogl_sbml(), "schlogl.xml")
    config = {"studies": {"s": {"model": "network",
                                "network": {"sbml": "schlogl.xml", "current": "exchange"},
                                "sweep": {"A": [0.8, 1.2]}}}}
    study = configs.parse_config(config)["s"]
    first = {p.id for p in study.points()}
    out = evaluate(study.model, **study.points()[0].params)
    assert out["current"] == pytest.approx(out["flux_exchange"]) and math.isfinite(out["gap"])
    doc = schlogl_sbml()
    doc.getModel().getParameter("k3").setValue(12.0)
    libsbml.writeSBMLToFile(doc, "schlogl.xml")
    assert first.isdisjoint(p.id for p in configs.parse_config(config)["s"].points())
    (tmp_path / "schlogl.xml").write_text(_with(_event))
    with pytest.raises(configs.ConfigError, match=r"study 's', network: SBML 'schlogl.xml': "
                                                r"event 'pulse'"):
        configs.parse_config(config)
