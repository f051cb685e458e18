"""One card's audit as a self-contained HTML page: the card's own text with every extracted value
highlighted and linked to its spec path, origin and rule; the findings beside the lines they
concern, by severity; what the project assumes and why; the memory chart. A view: it reads the
spec, the audit report, assume.py's answers (through the build's resolver) and the memory plan,
and the card file for its text (the audit itself never reads the card)."""
from __future__ import annotations

import re
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from cardrepro import __version__
from cardrepro.audit.findings import SEVERITIES
from cardrepro.errors import CardError
from cardrepro.paths import get
from cardrepro.printable import escape_controls
from cardrepro.read import redact
from cardrepro.read.source import decode, load_bytes, sha256 as sha256_of
from cardrepro.report import highlight

TEMPLATE = "report.html.j2"
SVG_SIZE = re.compile(r'<svg [^>]*width="(\d+)" height="(\d+)"')


def card_lines(path, sha256=None) -> list[str]:
    """The card's lines as the reader numbers them, secrets and machine paths redacted; the card
    must still be the one the spec was read from (its line numbers)."""
    data = load_bytes(path)
    if sha256 and sha256_of(data) != sha256:
        raise CardError(path, None, "the card changed after it was parsed: run the report again")
    lines = decode(path, data).split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    return [redact.redact_text(line.rstrip()) for line in lines]


def _anchors(spec) -> dict[str, str]:
    return {path: f"v{i}" for i, path in enumerate(spec.get("provenance") or {})}


def _values(spec, anchors):
    """The provenance table: every spec path the card gave, with its origin, rule and line."""
    return [{"path": path, "anchor": anchors[path], "value": highlight.shown(get(spec, path)),
             "origin": p.get("origin") or "", "rule": p.get("rule") or "", "line": p.get("line")}
            for path, p in (spec.get("provenance") or {}).items()]


def _findings(report):
    return [{**f, "id": f"f{i}", "first": (f["lines"] or [None])[0]} for i, f in enumerate(report["findings"])]


def _rows(spec, lines, findings):
    """One row per card line: its highlighted segments and the findings that start on it."""
    marks = highlight.marks_by_line(spec, lines, _anchors(spec))
    starting, touching = {}, {}
    for f in findings:
        for no in f["lines"]:
            touching.setdefault(no, f["severity"])
        if f["first"]:
            starting.setdefault(f["first"], []).append(f)
    return [{"no": no, "segments": highlight.segments(text, marks.get(no, [])), "marked": no in marks,
             "notes": starting.get(no, []), "severity": touching.get(no)}
            for no, text in enumerate(lines, start=1)]


def _assumptions(spec):
    """(what the project assumes: [{path, value, source}], the build's refusal or None)."""
    from cardrepro.project.compose import compose
    try:
        model = compose(spec)
    except CardError as err:
        return [], err.message
    return [{"path": a["path"], "value": highlight.shown(a["value"]), "source": a["source"]}
            for a in redact.redact_value(model["assumed"])], None


def _memory(spec, name):
    """The memory plan's inputs and, for full training, the build's per-GPU chart (memory.svg)."""
    from cardrepro.project import memory_chart
    from cardrepro.estimate import plan

    mem = plan.memory(spec)
    if not mem:
        return None
    chart = memory_chart.svg(mem["rows"], f"Per-GPU memory estimate, {name} (audit CR502)")
    return {"model": mem["canon"], "micro": mem["micro"], "seq": mem["seq"], "world": mem["world"],
            "world_how": mem["world_how"], "stage": mem["stage"], "lora": mem["lora"],
            "assumed": mem["assumed"], "chart": _scalable(chart) if chart else None}


def _scalable(svg: str) -> Markup:
    """The chart in an outer <svg> with a viewBox, so a narrow window shrinks it instead of cutting
    it. The chart escapes its own text (memory_chart.py); its markup is ours."""
    m = SVG_SIZE.search(svg)
    w, h = m.groups()
    return Markup(f'<svg class="chart" viewBox="0 0 {w} {h}" width="{w}" role="img" '
                  f'xmlns="http://www.w3.org/2000/svg">{svg}</svg>')


def _env() -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=FileSystemLoader(str(Path(__file__).parent)),
                               autoescape=select_autoescape(default=True, default_for_string=True),
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["visible"] = escape_controls
    return env


def html(spec: dict, report: dict) -> str:
    """The page for one parsed card and its audit report."""
    name = spec.get("name") or "card"
    path = get(spec, "card.path")
    lines = card_lines(path, get(spec, "card.sha256"))
    findings = _findings(report)
    assumed, refusal = _assumptions(spec)
    return _env().get_template(TEMPLATE).render(
        name=name, card_path=report.get("card") or path, sha256=get(spec, "card.sha256") or "",
        version=__version__, report=report, severities=SEVERITIES,
        findings={s: [f for f in findings if f["severity"] == s] for s in SEVERITIES},
        rows=_rows(spec, lines, findings), values=_values(spec, _anchors(spec)),
        assumed=assumed, refusal=refusal, memory=_memory(spec, name))
