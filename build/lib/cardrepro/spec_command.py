"""`cardrepro parse` and `cardrepro schema`."""
import json

import click

from cardrepro import validate


def dump(obj, fmt):
    if fmt == "json":
        return json.dumps(obj, indent=2, ensure_ascii=False)
    import yaml
    return yaml.safe_dump(obj, allow_unicode=True, sort_keys=False, width=120)


def text_view(spec):
    """A reading view: one `path = value   [origin line]` per fact."""
    prov = spec.get("provenance", {})
    lines = [f"{spec['name']}  ({spec['card']['path']}, sha256 {spec['card']['sha256'][:12]})"]

    def walk(value, path):
        if isinstance(value, dict) and path not in ("deepspeed.config",):
            for k, v in value.items():
                yield from walk(v, f"{path}.{k}" if path else k)
        elif isinstance(value, list) and value and isinstance(value[0], dict) and path in ("datasets", "stages"):
            for i, v in enumerate(value):
                yield from walk(v, f"{path}[{i}]")
        else:
            yield path, value

    for key in spec:
        if key in ("name", "card", "provenance"):
            continue
        for path, value in walk(spec[key], key):
            p = prov.get(path) or prov.get(path.rsplit(".", 1)[0]) or {}
            where = f"[{p.get('origin')}{' line ' + str(p['line']) if p.get('line') else ''}]" if p else ""
            shown = json.dumps(value, ensure_ascii=False)
            if len(shown) > 100:
                shown = shown[:97] + "..."
            lines.append(f"  {path} = {shown}  {where}")
    return "\n".join(lines)


@click.command(help="Print the spec of a model card: every training fact with where it came from.")
@click.argument("card", type=click.Path(dir_okay=True))
@click.option("--format", "fmt", type=click.Choice(["json", "yaml", "text"]), default="text", show_default=True,
              help="json/yaml for machines (validates against `cardrepro schema`), text for reading.")
def parse(card, fmt):
    from cardrepro.spec import parse_card
    spec = parse_card(card)
    click.echo(text_view(spec) if fmt == "text" else dump(spec, fmt))


@click.command(help="Print the JSON Schema (2020-12) that every spec validates against.")
def schema():
    click.echo(json.dumps(validate.schema("spec"), indent=2))
