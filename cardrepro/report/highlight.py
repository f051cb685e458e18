"""Where each extracted value sits in its card line: the spans the page highlights, each naming
the spec paths it gave (provenance), so that a reader sees what was read and from where."""
from __future__ import annotations

import json
import re

from cardrepro.paths import get

SHOWN_CHARS = 160  # a value longer than this is clipped in titles and tables
CARD_ORIGINS = ("card", "cli")   # values in the card's words (derived ones are ours)
ORIGIN_CLASSES = ("card", "derived", "default")   # a highlight naming several paths shows the first that applies
LOOKAHEAD = 40     # lines below a key (`datasets:`) searched for the values it heads


def shown(value) -> str:
    """A value as one short line of JSON."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = " ".join(str(text).split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _forms(value) -> list[str]:
    """How a card may spell a value: `1e-05` as `1e-5`, `True` as `true`, a dataset by its name."""
    if isinstance(value, bool):
        return [str(value), str(value).lower()]
    if isinstance(value, float):
        forms = [repr(value), f"{value:g}", str(int(value)) if value.is_integer() else ""]
        forms += [re.sub(r"e([+-])0*(\d)", r"e\1\2", f) for f in forms]
        forms += [f.replace("e-", "e-0") for f in forms if "e-" in f]
        return [f for f in dict.fromkeys(forms) if f]
    if isinstance(value, int):
        return [str(value)]
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return _forms(value["name"])
    if isinstance(value, list):
        return [f for v in value if not isinstance(v, (dict, list)) for f in _forms(v)]
    return []


def _pattern(form: str) -> re.Pattern:
    # `7` must not match inside `7b`, nor `1` inside `10`: word edges where the form has them
    head = r"(?<![\w.])" if re.match(r"\w", form) else ""
    tail = r"(?![\w])" if re.search(r"\w$", form) else ""
    return re.compile(head + re.escape(form) + tail, re.IGNORECASE)


def _search(forms, text, start, end):
    for form in forms:
        m = _pattern(form).search(text, start, end)
        if m:
            return m.start(), m.end()
    return None


def _region(line: str, excerpt: str):
    """The part of the line the provenance quotes (its excerpt), else the whole line."""
    ex = (excerpt or "").strip()
    at = line.find(ex) if ex else -1
    return (at, at + len(ex)) if at >= 0 else (0, len(line))


def value_span(line: str, forms, excerpt: str):
    """(start, end) of the value in the line, inside the quoted excerpt first; None when absent."""
    start, end = _region(line, excerpt)
    return _search(forms, line, start, end) or _search(forms, line, 0, len(line))


def quoted_span(line: str, excerpt: str):
    """Where no value can be found (one the extractor rephrased, a derived one): the excerpt the
    provenance quotes, else the line's text."""
    start, end = _region(line, excerpt)
    if end - start < len(line):
        return start, end
    return len(line) - len(line.lstrip()), len(line)


def _block_below(lines, no, forms):
    """(line number, span) of the value in the block a line heads (`datasets:` and its list), or None."""
    if not any(len(f) >= 3 for f in forms):   # a bare number below a key is too easily someone else's
        return None
    for below in range(no, min(no + LOOKAHEAD, len(lines))):
        text = lines[below]
        if not text.strip() or text.lstrip().startswith(("```", "#")):
            return None
        found = _search([f for f in forms if len(f) >= 3], text, 0, len(text))
        if found:
            return below + 1, found
    return None


def _origin_class(origin) -> str:
    origin = str(origin or "")
    return "derived" if origin == "derived" else "card" if origin in CARD_ORIGINS else "default"


def marks_by_line(spec, lines: list[str], anchors: dict[str, str]) -> dict[int, list[dict]]:
    """{line number: [{start, end, entries}]} for every provenance entry that names a card line;
    overlapping spans are merged so each character is highlighted once, naming all its paths."""
    raw: dict[int, list[dict]] = {}
    for path, prov in (spec.get("provenance") or {}).items():
        no = prov.get("line")
        if not isinstance(no, int) or not 1 <= no <= len(lines) or not lines[no - 1].strip():
            continue
        forms = _forms(get(spec, path))
        entry = {"path": path, "value": shown(get(spec, path)), "origin": prov.get("origin") or "",
                 "rule": prov.get("rule") or "", "anchor": anchors[path]}
        line, excerpt = lines[no - 1], prov.get("text") or ""
        found = value_span(line, forms, excerpt)
        _add(raw, no, found or quoted_span(line, excerpt), entry)
        below = None if found or entry["origin"] not in CARD_ORIGINS else _block_below(lines, no, forms)
        if below:
            _add(raw, below[0], below[1], entry)
    return {no: _merged(spans) for no, spans in raw.items()}


def _add(raw, no, span, entry):
    raw.setdefault(no, []).append({"start": span[0], "end": span[1], "entries": [entry]})


def _merged(spans):
    out = []
    for s in sorted(spans, key=lambda s: (s["start"], -s["end"])):
        if out and s["start"] < out[-1]["end"]:
            out[-1]["entries"] += s["entries"]
            out[-1]["end"] = max(out[-1]["end"], s["end"])
        else:
            out.append(dict(s))
    return out


def segments(line: str, marks: list[dict]) -> list[dict]:
    """The line cut into plain text and highlighted pieces, in order."""
    out, at = [], 0
    for m in marks:
        if m["start"] > at:
            out.append({"text": line[at:m["start"]], "mark": None})
        out.append({"text": line[m["start"]:m["end"]], "mark": _mark(m["entries"])})
        at = m["end"]
    if at < len(line) or not out:
        out.append({"text": line[at:], "mark": None})
    return out


def _mark(entries):
    first = entries[0]
    title = "\n".join(f"{e['path']} = {e['value']}  ({e['origin']}{'; ' + e['rule'] if e['rule'] else ''})"
                      for e in entries)
    return {"href": "#" + first["anchor"], "title": title, "paths": " ".join(e["path"] for e in entries),
            "origin": min((_origin_class(e["origin"]) for e in entries), key=ORIGIN_CLASSES.index)}
