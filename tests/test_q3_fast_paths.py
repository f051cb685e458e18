"""Q3's fast paths, each checked against its plain version (the reference kept here):
- coverage.front_matter_library: a card without the needle is not decoded (plain: every head read).
- validate.fits: the compiled schema check with the provenance walked by `_provenance_fits`
  (plain: cardrepro._spec_validator.fits over the whole spec)."""
import copy
import functools
import re

import pytest
from hypothesis import given, settings, strategies as st

from cardrepro import validate
from cardrepro.spec import build_spec
from conftest import CARDS, ROOT, built_and_checked_specs

HUB_READMES = ROOT.parent / "shared" / "corpus" / "hub-readmes"
CORPUS_STEP = 25


def plain_fits(doc):
    return validate.compiled_fits()(doc)


def built_and_checked(paths):
    """Every spec as built and, where the checker keeps it, as checked."""
    return [spec for _, built, checked in built_and_checked_specs(paths) for spec in (built, checked) if spec is not None]


@pytest.fixture(scope="module")
def specs():
    paths = sorted(CARDS.glob("*.md"))
    if HUB_READMES.is_dir():
        paths += sorted(HUB_READMES.glob("*.md"))[::CORPUS_STEP]
    return built_and_checked(paths)


def test_fits_agrees_with_the_compiled_check_over_the_corpus(specs):
    assert len(specs) > 20
    verdicts = [validate.fits(s) for s in specs]
    assert verdicts == [plain_fits(s) for s in specs]
    assert any(verdicts)


# a provenance record's values: those that fit and those that do not (a bool line, a float line,
# a negative one, an origin off the pattern or before a newline, a rule that is not a string ...)
VALUES = {
    "origin": ["card", "cli", "derived", "default:hf-trainer", "default:", "Card", "card\n", "default:HF", 3, None],
    "line": [0, 7, -1, None, True, 2.0, 2.5, "3"],
    "text": ["lr 2e-5", "", None, 5, ["x"]],
    "rule": ["r1", "", None, 1],
    "extra": ["x", 1],
}


@functools.lru_cache(maxsize=None)
def _checked_seed():
    spec = build_spec(CARDS / "stablelm-7b-sft.md")
    validate.check(spec, "stablelm-7b-sft.md")
    return spec


def seed_spec():
    """A checked seed spec (a fresh copy: the tests add records to its provenance)."""
    return copy.deepcopy(_checked_seed())


FITTING = {"origin": "card", "line": 3, "text": "lr 2e-5"}


@st.composite
def records(draw):
    """A fitting record with one or two of its values drawn from VALUES (or a key left out), or
    something that is no record at all."""
    if draw(st.integers(0, 20)) == 0:
        return draw(st.sampled_from([None, [], "card", 3]))
    rec = dict(FITTING)
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(sorted(VALUES)))
        if draw(st.integers(0, 5)) == 0:
            rec.pop(key, None)
        else:
            rec[key] = draw(st.sampled_from(VALUES[key]))
    return rec


@pytest.mark.parametrize("key, value", [(k, v) for k, vs in VALUES.items() for v in vs])
def test_fits_agrees_on_each_value_of_a_record(key, value):
    spec = seed_spec()
    spec["provenance"]["mutated"] = {**FITTING, key: value}
    assert validate.fits(spec) == plain_fits(spec)


@settings(max_examples=500, deadline=None)
@given(recs=st.lists(records(), max_size=4), at=st.integers(0, 3))
def test_fits_agrees_on_mutated_provenance(recs, at):
    spec = seed_spec()
    assert validate.fits(spec) and plain_fits(spec)
    prov = list(spec["provenance"].items())
    for i, rec in enumerate(recs):
        prov.insert(min(at + i, len(prov)), (f"mutated{i}", rec))
    spec["provenance"] = dict(prov)
    assert validate.fits(spec) == plain_fits(spec), recs


@pytest.mark.parametrize("doc", [[], None, {"name": "x"}, {"name": "x", "card": {}, "provenance": []},
                                 {"name": "x", "card": {"path": "c", "sha256": "0" * 64}, "provenance": {}}])
def test_fits_agrees_on_specs_of_the_wrong_shape(doc):
    assert validate.fits(doc) == plain_fits(doc)


# ----------------------------------------------------------------------------- coverage
def front_matter_library_plain(raw):
    """coverage.front_matter_library without the needle: every card's head decoded and read."""
    from cardrepro.coverage import FRONT_MATTER_BYTES, _library_in
    for size in FRONT_MATTER_BYTES:
        lines = raw[:size].decode("utf-8-sig", "replace").splitlines()
        whole = size == FRONT_MATTER_BYTES[-1] or len(raw) <= size
        decided, library = _library_in(lines if whole else lines[:-1])
        if decided or whole:
            return library
    return None


def test_the_needle_is_the_patterns_literal_head():
    """A line the pattern matches starts with the needle, so a card without it has no library."""
    from cardrepro import data
    cfg = data.load("coverage")
    needle = cfg["front_matter_library_needle"]
    assert cfg["front_matter_library"].startswith("^" + needle) and re.escape(needle) == needle


def test_front_matter_library_is_the_plain_reading_over_the_corpus():
    from cardrepro.coverage import front_matter_library
    raws = [p.read_bytes() for p in sorted(CARDS.glob("*.md"))]
    if HUB_READMES.is_dir():
        raws += [p.read_bytes() for p in sorted(HUB_READMES.glob("*.md"))[::3]]
    found = [front_matter_library(r) for r in raws]
    assert found == [front_matter_library_plain(r) for r in raws]
    assert None in found and len(set(found)) > 3


@settings(max_examples=300, deadline=None)
@given(head=st.lists(st.sampled_from(["---", "license: mit", "library_name: peft", "library_name:'x'",
                                      " library_name: y", "Library_name: z", "library_name", "\u2028",
                                      "\xe9", "---\r"]), max_size=6),
       bom=st.booleans(), junk=st.binary(max_size=6))
def test_front_matter_library_is_the_plain_reading_on_drawn_heads(head, bom, junk):
    from cardrepro.coverage import front_matter_library
    raw = (b"\xef\xbb\xbf" if bom else b"") + "\n".join(head).encode("utf-8") + junk
    assert front_matter_library(raw) == front_matter_library_plain(raw)


# ----------------------------------------------------------------------------- audit
def status_plain(ctx, fact):
    """missing._status as it was: every path looked at, then the verdict."""
    from cardrepro.audit import missing
    paths = fact.get("any") or [fact["path"]]
    if ctx.derived.rejected and ctx.derived.rejected.intersection(paths):
        return "rejected"
    present = [ctx.is_default(p) for p in paths if missing._present(ctx, p)]
    if not all(present):
        return "stated"
    return "defaulted" if present else "missing"


def test_missing_status_is_the_plain_one_over_the_corpus(specs):
    """Every fact of every method's table (not only the spec's own), on the corpus specs."""
    from cardrepro import audit
    from cardrepro.audit import missing
    facts = [f for table in (missing.C.rules().get("required_facts") or {}).values() for f in table]
    seen = set()
    for spec in specs:
        for brief in (False, True):
            ctx = audit.context(spec, brief=brief)
            for fact in facts:
                status = missing._status(ctx, fact)
                assert status == status_plain(ctx, fact), (spec["name"], fact["code"])
                seen.add(status)
    assert {"stated", "defaulted", "missing"} <= seen
