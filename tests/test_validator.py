"""The spec's schema check: the validator compiled from schemas/spec.schema.json
(cardrepro/_spec_validator.py) answers first, jsonschema names the errors of a spec it refuses.
The compiled module is kept in step with the schema, and the two accept and reject the same specs."""
import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cardrepro import validate
from cardrepro.errors import CardError
from cardrepro.spec import build_spec
from conftest import CARDS, ROOT, built_and_checked_specs, run_cli

HUB_READMES = ROOT.parent / "shared" / "corpus" / "hub-readmes"
CORPUS_STEP = 10                       # every 10th README of the Hub corpus
CARD = CARDS / "stablelm-7b-sft.md"


def compiled(doc):
    return validate.compiled_fits()(doc)


def by_jsonschema(doc):
    return validate.validator("spec").is_valid(doc)


specs_of = built_and_checked_specs


@pytest.fixture(scope="module")
def seed_specs():
    return specs_of(sorted(CARDS.glob("*.md")))


@pytest.fixture(scope="module")
def corpus_specs():
    if not HUB_READMES.is_dir():
        pytest.skip(f"the Hub corpus is absent ({HUB_READMES})")
    return specs_of(sorted(HUB_READMES.glob("*.md"))[::CORPUS_STEP])


# --- the generated module follows the schema -------------------------------------------------------
def test_generated_module_is_a_fresh_compile_of_the_schema():
    assert validate.COMPILED.read_text(encoding="utf-8") == validate.compiled_source(), (
        f"schemas/spec.schema.json and {validate.COMPILED.name} differ: run `{validate.REGENERATE}`")


def test_a_schema_edit_changes_the_compile(tmp_path):
    """The freshness test above fails for a schema edited without regenerating."""
    edited = copy.deepcopy(validate.schema("spec"))
    edited["properties"]["training"]["properties"]["learning_rate"]["minimum"] = 0
    assert validate.compiled_source(edited) != validate.COMPILED.read_text(encoding="utf-8")


def test_regenerate_command_writes_the_committed_module(tmp_path):
    out = tmp_path / "_spec_validator.py"
    res = subprocess.run([sys.executable, "-m", "cardrepro.validate", "--regenerate", "--output", str(out)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert out.read_text(encoding="utf-8") == validate.COMPILED.read_text(encoding="utf-8")


def test_generated_module_stands_alone():
    """parse needs no fastjsonschema: the module defines its own exception."""
    text = validate.COMPILED.read_text(encoding="utf-8")
    assert "fastjsonschema import" not in text and "tuple" not in text


# --- the hot path ------------------------------------------------------------------------------------
def imported_modules(stderr):
    return {line.rsplit("|", 1)[1].strip() for line in stderr.splitlines() if line.startswith("import time:")}


@pytest.mark.parametrize("command", [["parse", str(CARD), "--format", "json"], ["audit", str(CARD), "--fail-on", "never"]])
def test_a_fitting_spec_never_imports_jsonschema(command):
    res = run_cli(*command, env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    modules = imported_modules(res.stderr)
    assert "cardrepro._spec_validator" in modules
    assert "jsonschema" not in modules and "fastjsonschema" not in modules


def test_a_refused_value_is_still_named_by_jsonschema(write_card):
    """A spec the compiled validator refuses goes to jsonschema, whose message and path the hygiene entry keeps."""
    path = write_card("# m\nBase model: org/llama-7b\n\n```json\n{\n\"zero_optimization\": {\"stage\": 4}\n}\n```\n")
    res = run_cli("parse", path, "--format", "json", env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    assert "jsonschema" in imported_modules(res.stderr)
    [bad] = json.loads(res.stdout)["hygiene"]["invalid_values"]
    assert (bad["path"], bad["line"]) == ("deepspeed.stage", 6)
    assert bad["reason"] == "the spec schema refuses it: 4 is not one of [0, 1, 2, 3, None]"


def test_a_spec_the_parser_built_wrong_is_refused_with_jsonschemas_message(tmp_path):
    spec = build_spec(CARD)
    key = next(iter(spec["provenance"]))
    spec["provenance"][key]["origin"] = "guessed"
    with pytest.raises(CardError, match=re.escape(f"provenance.{key}.origin: 'guessed' does not match '^(card|")):
        validate.check(spec, CARD)


# --- the two validators agree --------------------------------------------------------------------------
def assert_agree(doc, label):
    assert compiled(doc) == by_jsonschema(doc), f"{label}: compiled {compiled(doc)}, jsonschema {by_jsonschema(doc)}"


def test_seed_specs_fit_both(seed_specs):
    assert len(seed_specs) >= 4
    for name, built, checked in seed_specs:
        assert compiled(checked) and by_jsonschema(checked), name
        assert_agree(built, name)


def test_corpus_specs_agree(corpus_specs):
    """Every 10th Hub README: the spec as built (before values are dropped) and as checked."""
    assert len(corpus_specs) >= 300
    verdicts = []
    for name, built, checked in corpus_specs:
        assert_agree(built, f"{name} (built)")
        verdicts.append(by_jsonschema(built))
        if checked is not None:
            assert_agree(checked, f"{name} (checked)")
            assert by_jsonschema(checked), name
    assert any(verdicts)


@pytest.mark.parametrize("label, edit, fits", [
    ("a tuple where an array goes", lambda s: s.__setitem__("languages", ("en",)), False),
    ("a name ending in a newline ($ matches before it)", lambda s: s.__setitem__("name", "m\n"), True),
    ("a bool where the stage enum holds 1", lambda s: s["deepspeed"].__setitem__("stage", True), False),
    ("a float of an integer's value", lambda s: s["deepspeed"].__setitem__("stage", 2.0), True),
    ("NaN against a minimum", lambda s: s["training"].__setitem__("num_train_epochs", float("nan")), True),
    ("an integer beyond 64 bits", lambda s: s["training"].__setitem__("max_steps", 10 ** 30), True),
])
def test_edge_cases_where_fastjsonschema_alone_would_differ(label, edit, fits):
    spec = build_spec(CARD)
    spec.setdefault("deepspeed", {})
    edit(spec)
    assert by_jsonschema(spec) is fits, label
    assert compiled(spec) is fits, label


# the specs' values, by the schema node that describes each
def places(value, node, parts=()):
    yield parts, value, node
    if isinstance(value, dict):
        extra = node.get("additionalProperties")
        for k, v in value.items():
            sub = node.get("properties", {}).get(k, extra if isinstance(extra, dict) else None)
            if sub is not None:
                yield from places(v, sub, parts + (k,))
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for i, v in enumerate(value):
            yield from places(v, node["items"], parts + (i,))


def json_types(v):
    if isinstance(v, bool):
        return {"boolean"}
    if isinstance(v, int) or (isinstance(v, float) and v.is_integer()):
        return {"integer", "number"}
    return {float: {"number"}, str: {"string"}, type(None): {"null"}, list: {"array"}, dict: {"object"}}[type(v)]


OTHER_VALUES = ["text", 3, 2.5, True, None, [], {}, ["x"], {"k": 1}]
OUT_OF_ENUM = ["FP16", "", "sft ", 4, -1, True, False, "1", 2.5, []]


def allowed(node):
    t = node["type"]
    return {t} if isinstance(t, str) else set(t)


def out_of_enum(v, enum):
    return isinstance(v, bool) or v not in enum


def mutants(spec):
    """(kind, parts, how) for each edit the schema refuses, and some it allows."""
    root = validate.schema("spec")
    for parts, value, node in places(spec, root):
        if isinstance(value, dict):
            for key in node.get("required", []):
                yield "drop required", parts, ("del", key)
            if node.get("additionalProperties") is False:
                yield "extra key where forbidden", parts, ("add", "unexpected", 1)
            elif parts:
                yield "extra key where allowed", parts, ("add", "unexpected_but_allowed", 1)
        if parts and "type" in node:
            for other in OTHER_VALUES:
                kind = "wrong type" if not json_types(other) & allowed(node) else "right type"
                yield kind, parts, ("set", other)
        if parts and "enum" in node:
            for other in OUT_OF_ENUM:
                if out_of_enum(other, node["enum"]):
                    yield "enum out of range", parts, ("set", other)


def applied(spec, parts, how):
    doc = copy.deepcopy(spec)
    if how[0] == "set":
        target = doc
        for p in parts[:-1]:
            target = target[p]
        target[parts[-1]] = copy.deepcopy(how[1])
        return doc
    target = doc
    for p in parts:
        target = target[p]
    if how[0] == "del":
        del target[how[1]]
    else:
        target[how[1]] = how[2]
    return doc


REFUSED = {"drop required", "extra key where forbidden", "wrong type", "enum out of range"}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_specs_agree(seed_specs, corpus_sample_for_mutation, data):
    """Drop a required key, put a value of a wrong type, an enum value out of range or an extra key
    where none is allowed: both refuse; a value of the right type or an allowed extra key: both accept."""
    name, spec = data.draw(st.sampled_from(corpus_sample_for_mutation), label="spec")
    edits = list(mutants(spec))
    kind, parts, how = data.draw(st.sampled_from(edits), label="edit")
    doc = applied(spec, parts, how)
    assert_agree(doc, f"{name}: {kind} at {parts} ({how!r})")
    if kind in REFUSED:
        assert not by_jsonschema(doc), f"{name}: {kind} at {parts} was not refused"


@pytest.fixture(scope="module")
def corpus_sample_for_mutation(seed_specs, request):
    """The checked specs of the seeds and, where present, of the corpus sample (the richest first)."""
    pool = [(n, c) for n, _, c in seed_specs if c is not None]
    if HUB_READMES.is_dir():
        corpus = request.getfixturevalue("corpus_specs")
        rich = sorted(((n, c) for n, _, c in corpus if c is not None), key=lambda x: -len(json.dumps(x[1])))
        pool += rich[:60]
    return pool


def test_mutations_reach_every_refusal_kind(seed_specs):
    kinds = {k for _, _, c in seed_specs if c for k, _, _ in mutants(c)}
    assert REFUSED <= kinds, kinds
