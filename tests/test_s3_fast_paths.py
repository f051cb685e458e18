"""S3's fast paths give what their plain versions gave, over seed cards and a sample of the Hub
corpus: a brief audit context's findings (codes_and_score) are the full findings' code, severity
and family, one for one, in order."""
from cardrepro.audit import _unscrubbed, codes_and_score, context, findings
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"


def _specs(every):
    out = []
    for card in sorted(CARDS.glob("*.md")) + sorted(CORPUS.glob("*.md"))[::every]:
        try:
            out.append(parse_card(card))
        except Exception:
            continue
    return out


def _kept(found):
    return [(f["code"], f["severity"], f["family"]) for f in found]


def test_a_brief_contexts_findings_are_the_full_findings_without_their_text():
    with_text = 0
    for spec in _specs(9):
        brief, full = _unscrubbed(context(spec, brief=True)), _unscrubbed(context(spec))
        assert _kept(brief) == _kept(full), spec["card"]["path"]
        # only the two rules written without a context (conflicts._precedence, hygiene._truncated) keep their text
        assert {f["code"] for f in brief if f.keys() != {"code", "severity", "family"}} <= {"CR304", "CR603"}
        with_text += any(f["family"] == "availability" for f in full)
    assert with_text > 50      # CR105, CR130: the findings a brief context no longer writes out


def test_a_brief_finding_is_the_code_severity_and_family_of_the_full_one():
    # a real metadata dataset name of a Hub card (CR130's message holds it)
    full = findings.finding("CR130", "warning", "metadata lists `Open-Orca/SlimOrca`, which is not in the training mix",
                            lines=[7], action="ask the authors", basis=["card"], paths=["metadata_datasets[0]"])
    assert findings.brief("CR130", "warning") == {k: full[k] for k in ("code", "severity", "family")}


def test_codes_and_score_read_the_brief_findings():
    spec = parse_card(sorted(CARDS.glob("*.md"))[0])
    report_codes = sorted({code for code, _, _ in _kept(_unscrubbed(context(spec)))})
    assert codes_and_score(spec)[0] == report_codes
