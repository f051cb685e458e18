"""A spec as facts: (dotted path, value) pairs, and the reading view `cardrepro parse --format text` prints."""
import json


def spec_facts(spec):
    """(dotted path, value) for every fact of a spec, in spec order; `datasets[i]` and `stages[i]`
    are walked into, the DeepSpeed config is one value."""
    for key in spec:
        if key not in ("name", "card", "provenance"):
            yield from _walk(spec[key], key)


def _walk(value, path):
    # a module function, not a closure that calls itself: that would be a reference cycle
    if isinstance(value, dict) and path != "deepspeed.config":
        for k, v in value.items():
            yield from _walk(v, f"{path}.{k}")
    elif isinstance(value, list) and value and isinstance(value[0], dict) and path in ("datasets", "stages"):
        for i, v in enumerate(value):
            yield from _walk(v, f"{path}[{i}]")
    else:
        yield path, value


def text_view(spec):
    """A reading view: one `path = value   [origin line]` per fact."""
    prov = spec.get("provenance", {})
    lines = [f"{spec['name']}  ({spec['card']['path']}, sha256 {spec['card']['sha256'][:12]})"]
    for path, value in spec_facts(spec):
        p = prov.get(path) or prov.get(path.rsplit(".", 1)[0]) or {}
        where = f"[{p.get('origin')}{' line ' + str(p['line']) if p.get('line') else ''}]" if p else ""
        shown = json.dumps(value, ensure_ascii=False)
        if len(shown) > 100:
            shown = shown[:97] + "..."
        lines.append(f"  {path} = {shown}  {where}")
    return "\n".join(lines)
