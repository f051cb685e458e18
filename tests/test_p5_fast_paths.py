"""The audit's, the validator's and the assembler's fast paths give what their plain versions gave:
each plain version is kept here as the reference, checked against the fast one by hypothesis and
over the Hub corpus (every card the reader gives, parse and audit JSON identical)."""
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import assume, data, validate
from cardrepro.audit import audit_report, codes_and_score, findings, missing
from cardrepro.printable import escape_controls, escape_controls_obj
from cardrepro.read import read_card
from cardrepro.spec import last_line, parse_card
from conftest import CARDS, ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
REALCARDS = ROOT.parent / "shared" / "realcards" / "cards"


def _corpus(every):
    cards = sorted(CARDS.glob("*.md")) + sorted(REALCARDS.glob("*.md"))
    return cards + sorted(CORPUS.glob("*.md"))[::every]


# ----------------------------------------------------------------------------- plain versions
def finding_plain(code, severity, message, *, lines=(), action="", basis=("card",), derivation=(),
                  paths=(), data=None):
    assert severity in findings.SEVERITIES, severity
    assert code.startswith("CR") and len(code) == 5 and code[2] in findings.FAMILIES, code
    clean_lines = sorted({int(x) for x in lines if isinstance(x, int) and x > 0})
    out = {"code": code, "severity": severity, "family": findings.FAMILIES[code[2]],
           "message": " ".join(escape_controls(str(message)).split()), "lines": clean_lines,
           "action": " ".join(escape_controls(str(action)).split()),
           "basis": list(dict.fromkeys(map(escape_controls_obj, basis))),
           "derivation": [escape_controls(str(d)) for d in derivation],
           "paths": list(dict.fromkeys(map(escape_controls_obj, paths)))}
    if data:
        out["data"] = escape_controls_obj(data)
    return out


def status_plain(ctx, fact):
    paths = fact.get("any") or [fact["path"]]
    if ctx.derived.rejected.intersection(paths):
        return "rejected"
    if any(missing._present(ctx, p) and not ctx.is_default(p) for p in paths):
        return "stated"
    if any(missing._present(ctx, p) and ctx.is_default(p) for p in paths):
        return "defaulted"
    return "missing"


def if_silent_plain(spec, path):
    section, _, key = path.partition(".")
    trimmed = dict(spec or {})
    if key and isinstance(trimmed.get(section), dict):
        trimmed[section] = {k: v for k, v in trimmed[section].items() if k != key}
    return assume.value(trimmed, path)


def numbers_plain(value, parts):
    if validate._is_number(value):
        yield parts, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from numbers_plain(v, parts + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from numbers_plain(v, parts + (i,))


def errors_plain(doc):
    if validate.compiled_fits()(doc):
        return []
    return sorted(validate.validator("spec").iter_errors(doc), key=lambda e: list(e.path))


def model_config_plain(name):
    if not name:
        return None, None
    configs = data.load("model_configs")
    models = configs.get("models") or {}
    aliases = {str(k).strip().lower(): v for k, v in (configs.get("aliases") or {}).items()}
    lower = {str(k).strip().lower(): k for k in models}
    n = str(name).strip().lower()
    for cand in (n, n.rsplit("/", 1)[-1]):
        if cand in lower:
            return lower[cand], models[lower[cand]]
        if cand in aliases and aliases[cand] in models:
            return aliases[cand], models[aliases[cand]]
    return None, None


_STEP = __import__("re").compile(r"([^.\[\]]+)|\[(\d+)\]")


def get_plain(obj, path, default=None):
    cur = obj
    for key, idx in _STEP.findall(path):
        if idx:
            if not isinstance(cur, list) or int(idx) >= len(cur):
                return default
            key = int(idx)
        elif not isinstance(cur, dict) or key not in cur:
            return default
        cur = cur[key]
    return default if cur is None else cur


def _shown(x):
    """JSON with the types a comparison by == would lose (1, 1.0 and True)."""
    return json.dumps(x, default=repr) + repr(x)


# ----------------------------------------------------------------------------- findings
TEXT = st.text(alphabet=st.sampled_from("ab \t\n\x1b\x00\x9fé|"), max_size=12)
ITEM = st.one_of(TEXT, st.integers(-2, 3), st.booleans(), st.sampled_from([1.0, 0.0, -0.0, 2.5]), st.none())
DATA = st.one_of(st.none(), st.dictionaries(TEXT, st.one_of(ITEM, st.lists(ITEM, max_size=3),
                                                             st.dictionaries(TEXT, ITEM, max_size=2)), max_size=3))


@settings(max_examples=500, deadline=None, derandomize=True)
@given(code=st.sampled_from(["CR101", "CR203", "CR230", "CR404", "CR602"]),
       severity=st.sampled_from(findings.SEVERITIES), message=st.one_of(TEXT, st.integers()), action=TEXT,
       lines=st.lists(st.one_of(st.integers(-1, 5), st.booleans(), st.none(), st.just(2.0)), max_size=4),
       basis=st.lists(ITEM, max_size=3), derivation=st.lists(ITEM, max_size=3),
       paths=st.lists(ITEM, max_size=3), data=DATA)
def test_finding_is_the_plain_finding(code, severity, message, action, lines, basis, derivation, paths, data):
    for _ in range(2):      # the second time from the memo
        got = findings.finding(code, severity, message, lines=lines, action=action, basis=basis,
                               derivation=derivation, paths=paths, data=data)
        assert _shown(got) == _shown(finding_plain(code, severity, message, lines=lines, action=action,
                                                   basis=basis, derivation=derivation, paths=paths, data=data))


def test_a_finding_from_the_memo_shares_no_list_or_dict():
    a = findings.finding("CR203", "warning", "m", basis=["card"], paths=["x"], data={"assumed": [1]})
    a["basis"].append("changed")
    a["paths"].clear()
    a["data"]["assumed"].append(2)
    b = findings.finding("CR203", "warning", "m", basis=["card"], paths=["x"], data={"assumed": [1]})
    assert (b["basis"], b["paths"], b["data"]) == (["card"], ["x"], {"assumed": [1]})


def test_a_memo_never_takes_true_for_1():
    assert findings.finding("CR203", "info", "m", paths=[1])["paths"] == [1]
    assert findings.finding("CR203", "info", "m", paths=[True])["paths"] == [True]
    assert findings.finding("CR203", "info", "m", paths=[1.0])["paths"] == [1.0]
    assert type(findings.finding("CR203", "info", "m", paths=[True])["paths"][0]) is bool


def test_a_bad_code_or_severity_is_refused_as_before():
    with pytest.raises(AssertionError):
        findings.finding("CR203", "fatal", "m")
    with pytest.raises(AssertionError):
        findings.finding("XX203", "info", "m")
    with pytest.raises(TypeError):
        findings.finding("CR203", "info", "m", paths=[{"a": 1}])


@settings(max_examples=500, deadline=None, derandomize=True)
@given(value=st.recursive(st.one_of(ITEM, st.just("")), lambda kids: st.one_of(
           st.lists(kids, max_size=3), st.dictionaries(st.sampled_from(["a", "b", "0", "1"]), kids, max_size=3),
           st.dictionaries(st.integers(0, 2), kids, max_size=2)), max_leaves=12),
       path=st.lists(st.one_of(st.sampled_from(["a", "b", "0", "1"]).map(lambda k: "." + k),
                               st.integers(0, 3).map(lambda i: f"[{i}]")), min_size=1, max_size=4).map(
           lambda parts: "".join(parts).lstrip(".")))
def test_get_is_the_plain_walk(value, path):
    from cardrepro.paths import get
    assert _shown(get(value, path, "absent")) == _shown(get_plain(value, path, "absent"))


# ----------------------------------------------------------------------------- validator
JSONISH = st.recursive(st.one_of(ITEM, st.floats(allow_nan=True, allow_infinity=True), st.integers(-2**70, 2**70)),
                       lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(TEXT, kids, max_size=4)),
                       max_leaves=25)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(value=JSONISH)
def test_numbers_are_the_plain_walks(value):
    assert _shown(validate._numbers(value, ("training",))) == _shown(list(numbers_plain(value, ("training",))))


def _error_list(errs):
    return [(list(e.path), e.message, repr(e.instance)) for e in errs]


BAD_SPECS = [
    {"name": "x", "card": {"path": "c.md", "sha256": "0" * 64}, "provenance": {}, "training": {"learning_rate": "fast"}},
    {"card": {"path": "c.md"}, "provenance": {"training.x": {"origin": "nowhere", "line": 1, "text": None}},
     "training": {"num_train_epochs": "three", "per_device_train_batch_size": [1]}, "extra": 1},
    {"name": "Bad Name", "card": 3, "datasets": [{"name": 1}], "method": 7},
    {"name": "x", "provenance": {}, "peft": {"r": "eight"}, "licence": ["a"]},
]


@pytest.mark.parametrize("spec", BAD_SPECS + ["not a spec", [1], None])
def test_errors_of_a_misfit_spec_are_jsonschemas_errors_of_the_whole_spec(spec):
    got = _error_list(validate.errors(spec))
    assert got and got == _error_list(errors_plain(spec))


def test_the_stand_ins_fit_the_schema():
    assert validate.compiled_fits()(validate.STAND_INS)


def test_errors_over_the_corpus_are_the_plain_errors():
    """Every corpus card's spec before validation, and its spec as each drop leaves it (the card
    that drops most values is among them)."""
    from cardrepro.spec import build_spec
    misfits = 0
    for card in _corpus(8):
        try:
            spec = build_spec(card)
        except Exception:
            continue
        misfits += not validate.compiled_fits()(spec)
        assert _error_list(validate.errors(spec)) == _error_list(errors_plain(spec)), card
    assert misfits >= 1  # a spec that fails the compiled check is among them (few do: ~12 corpus cards)


# ----------------------------------------------------------------------------- audit and assembly
def test_model_config_is_the_plain_lookup():
    configs = data.load("model_configs")
    names = [*configs["models"], *configs.get("aliases", {}), "huggyllama/LLaMA-7B", " bloom-560m ", "", None,
             "org/unknown-model", "x/" + next(iter(configs["models"])).upper()]
    for name in names:
        assert data.model_config(name) == model_config_plain(name), name


def test_last_line_is_the_largest_line_number_over_the_corpus():
    for card in _corpus(10):
        doc = read_card(card)
        assert last_line(doc) == max((l.no for l in doc.lines), default=0), card


def test_statuses_and_defaults_are_the_plain_ones_over_the_corpus():
    from cardrepro.audit import context
    seen = set()
    for card in _corpus(16):
        try:
            spec = parse_card(card)
        except Exception:
            continue
        ctx = context(spec)
        for fact in missing.required_for(ctx)[1]:
            status = missing._status(ctx, fact)
            assert status == status_plain(ctx, fact), (card, fact["code"])
            seen.add(status)
            for path in fact.get("any") or [fact["path"]]:
                assumed = assume.if_silent(spec, path)
                assert _shown(assumed) == _shown(if_silent_plain(spec, path)), (card, path)
                assert assume.may_be_implied(path) or assumed[1] != assume.IMPLIED_WORLD_SOURCE, (card, path)
    assert {"stated", "defaulted", "missing"} <= seen


def test_the_audit_is_the_plain_audit_over_the_corpus(monkeypatch):
    """audit_report and codes_and_score with every fast path above, then with the plain versions."""
    from cardrepro.audit import availability, conflicts, cost, derived, hygiene, values
    context_module = sys.modules["cardrepro.audit.context"]    # `cardrepro.audit.context` is a function too
    specs = []
    for card in _corpus(16):
        try:
            specs.append(parse_card(card))
        except Exception:
            continue
    fast = [(audit_report(s), codes_and_score(s)) for s in specs]
    for mod in (availability, conflicts, cost, derived, hygiene, missing, values, findings):
        if hasattr(mod, "finding"):
            monkeypatch.setattr(mod, "finding", finding_plain)
    monkeypatch.setattr(missing, "_status", status_plain)
    monkeypatch.setattr(assume, "if_silent", if_silent_plain)
    monkeypatch.setattr(data, "model_config", model_config_plain)
    monkeypatch.setattr(context_module, "model_config", model_config_plain)
    plain = [(audit_report(s), codes_and_score(s)) for s in specs]
    assert len(specs) > 200
    for s, a, b in zip(specs, fast, plain):
        assert _shown(a) == _shown(b), s["card"]["path"]


def test_codes_and_score_are_those_of_the_full_findings_over_the_corpus():
    """codes_and_score's brief context (missing facts without their text) against the findings
    audit_report writes."""
    rows = 0
    for card in _corpus(14):
        try:
            spec = parse_card(card)
        except Exception:
            continue
        report = audit_report(spec)
        codes, score = codes_and_score(spec)
        assert (codes, score) == (sorted({f["code"] for f in report["findings"]}), report["score"]["score"]), card
        rows += any(f["family"] == "missing" for f in report["findings"])
    assert rows > 50

