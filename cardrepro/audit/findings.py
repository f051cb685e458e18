"""The findings model: one plain dict per finding, a score and a verdict per card.

A finding is a JSON-serialisable dict:
  code        stable id, CR1xx availability, CR2xx missing facts, CR3xx conflicts,
              CR4xx derived facts, CR5xx cost and memory, CR6xx hygiene
  severity    error (the card as stated cannot be reproduced without a substitute or an answer
              from the authors) | warning (reproducible, but a value is assumed or a result will
              differ) | info (a derivation or a note; nothing to fix)
  family      availability | missing | conflicts | derived | cost | hygiene
  message     one line
  lines       the 1-based card lines the finding rests on (may be empty for trainer defaults)
  action      what to do: the substitute, the default that will be assumed, what to ask for
  basis       where each fact comes from: "card", "registry (...)", "trainer docs (...)", "derived"
  derivation  the arithmetic, one step per line (derived and cost findings)
  paths       the spec paths involved
  data        machine-readable numbers (optional)

Reproducibility score (0-100), per card:
  score = round(100 * (0.5 * facts + 0.3 * data + 0.2 * consistency))
  facts       = (stated + 0.5 * defaulted) / required, over the required facts of the card's
                method (cardrepro/data/audit_rules.yaml): stated by the card or its command = 1,
                filled by the named trainer's documented default = 0.5, missing = 0
  data        = mean over the mix's datasets of 1 (public), 0.5 (unpublished but a published
                substitute exists), 0 (internal, unreleased without substitute, local path,
                unknown); 0 when the card names no data
  consistency = max(0, 1 - 0.25 * conflict warnings/errors) (CR3xx of severity warning or error)
  then 10 points off per error finding (clamped at 0): a card that cannot be reproduced as
  stated never scores like one that can.
"""
from __future__ import annotations

from cardrepro import memo
from cardrepro.printable import escape_controls, escape_controls_obj

SEVERITIES = ("error", "warning", "info")
SEVERITY_RANK = {"error": 2, "warning": 1, "info": 0}
FAMILIES = {"1": "availability", "2": "missing", "3": "conflicts", "4": "derived", "5": "cost",
            "6": "hygiene"}


def finding(code, severity, message, *, lines=(), action="", basis=("card",), derivation=(),
            paths=(), data=None):
    basis, paths = tuple(basis), tuple(paths)
    shown = _visible if {*map(type, basis), *map(type, paths)} <= _STR else _visible.__wrapped__
    family, message, action, basis, derivation, paths = shown(
        code, severity, str(message), str(action), basis, tuple(map(str, derivation)), paths)
    out = {"code": code, "severity": severity, "family": family, "message": message,
           "lines": sorted({int(x) for x in lines if isinstance(x, int) and x > 0}) if lines else [],
           "action": action, "basis": list(basis), "derivation": list(derivation), "paths": list(paths)}
    if data:
        out["data"] = _visible_data(data)   # card values in the text (a terminal would run ESC ...)
    return out


def brief(code, severity):
    """A finding as a corpus row reads it (audit.codes_and_score): its code, severity and family,
    no text (a brief context's findings, Context.finding)."""
    return {"code": code, "severity": severity, "family": FAMILIES[code[2]]}


# Only strings go through the memo: its keys would take 1, 1.0 and True (0.0 and -0.0) for one another
_STR = frozenset({str})
_PLAIN = frozenset({int, float, bool, type(None)})


def _visible_data(data):
    """escape_controls_obj(data), a number of a dict taken as it is (nearly every finding's data)."""
    if type(data) is not dict:
        return escape_controls_obj(data)
    return {escape_controls_obj(k): v if type(v) in _PLAIN else escape_controls_obj(v) for k, v in data.items()}


# Most findings repeat other cards' words (the same missing fact, the same default): their text is
# made visible and put on one line once per process (cardrepro/memo.py).
@memo.memo(maxsize=1 << 13)
def _visible(code, severity, message, action, basis, derivation, paths):
    """(family, message, action, basis, derivation, paths) of a finding as shown: control
    characters escaped, message and action on one line, basis and paths each once (tuples)."""
    assert severity in SEVERITIES, severity
    assert code.startswith("CR") and len(code) == 5 and code[2] in FAMILIES, code
    return (FAMILIES[code[2]], " ".join(escape_controls(message).split()),
            " ".join(escape_controls(action).split()),
            tuple(dict.fromkeys(map(escape_controls_obj, basis))),
            tuple(escape_controls(d) for d in derivation),
            tuple(dict.fromkeys(map(escape_controls_obj, paths))))


def sort_findings(findings):
    return sorted(findings, key=lambda f: (-SEVERITY_RANK[f["severity"]], f["code"],
                                           f["lines"][:1] or [0]))


def counts(findings):
    c = {s: 0 for s in SEVERITIES}
    for f in findings:
        c[f["severity"]] += 1
    return c


def score(findings, facts_ratio, data_ratio):
    conflicts = sum(1 for f in findings if f["family"] == "conflicts" and f["severity"] != "info")
    consistency = max(0.0, 1.0 - 0.25 * conflicts)
    errors = sum(1 for f in findings if f["severity"] == "error")
    value = round(100 * (0.5 * facts_ratio + 0.3 * data_ratio + 0.2 * consistency)) - 10 * errors
    return {"score": int(max(0, min(100, value))), "facts": round(facts_ratio, 3),
            "data": round(data_ratio, 3), "consistency": round(consistency, 3),
            "formula": "round(100 * (0.5*facts + 0.3*data + 0.2*consistency)) - 10*errors"}


def verdict(findings):
    c = counts(findings)
    errors = [f for f in findings if f["severity"] == "error"]
    if errors:
        topics = ", ".join(dict.fromkeys(f["code"] for f in errors))
        return (f"not reproducible as stated: {c['error']} error(s) ({topics}) need a substitute "
                f"or an answer from the authors")
    if c["warning"]:
        return f"reproducible with assumptions: {c['warning']} warning(s), no errors"
    return "reproducible as stated: no errors or warnings"


def reaches(findings, fail_on):
    if fail_on == "never":
        return False
    floor = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f["severity"]] >= floor for f in findings)
