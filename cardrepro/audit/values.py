"""CR230: a value the card states that no run can use (NaN, an infinity, a learning rate of 0, a
batch of 0 samples, 0 GPUs ...). The parser drops it (validate.py, hygiene.invalid_values); a spec
made elsewhere is checked here against the same rules. Either way the value never reaches an output."""
from __future__ import annotations

from cardrepro import validate
from cardrepro.audit.missing import build_default


def invalid_values(ctx):
    """[{path, value, reason, line}]: what the parser dropped, then what a hand-made spec still holds."""
    recorded = list((ctx.get("hygiene") or {}).get("invalid_values") or [])
    for parts, value, why in validate.bad_values(ctx.spec):
        recorded.append({"path": validate._dotted(list(parts)), "value": validate._shown(value), "reason": why,
                         "line": validate.card_line(ctx.spec, list(parts))})
    return recorded


def check(ctx):
    out = []
    for bad in ctx.once(invalid_values):
        path = bad.get("path") or "?"
        assumed, source = build_default(ctx, path)
        then = (f"the build assumes {path} = {assumed!r} ({source}) unless the card is fixed"
                if assumed is not None else "the build leaves it out")
        out.append(ctx.finding(
            "CR230", "error",
            f"{path} = {bad.get('value')} is not a usable value: {bad.get('reason')}; it is dropped",
            lines=[bad.get("line")],
            action=f"correct the card; {then}",
            basis=["card", "value rules (cardrepro/data/audit_rules.yaml value_rules)"], paths=[path],
            data={"value": bad.get("value")}))
    return out


def rejected_paths(ctx):
    return {bad.get("path") for bad in ctx.once(invalid_values)}
