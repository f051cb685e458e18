"""Jinja rendering. Card text is data: templates are our files only, rendered in a sandbox with
card values passed as variables. In shell templates every `{{ ... }}` output goes through
`shlex.quote` (the environment's finalize), so no card value reaches a script unquoted."""
from __future__ import annotations

import json
import shlex

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from cardrepro.project.data import TEMPLATES_DIR
from cardrepro.printable import escape_controls


def md_cell(value) -> str:
    """A value safe inside one Markdown table cell (one line, no pipes)."""
    if value is None:
        return "—"
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    value = value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "⏎")
    return value.replace("`", "\\`") if value else '""'


def md_code(value) -> str:
    """A value shown as inline code, whatever backticks it holds."""
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    value = value.replace("\r", "").replace("\n", "⏎").replace("|", "\\|")
    fence = "`"
    while fence in value:
        fence += "`"
    pad = " " if value.startswith("`") or value.endswith("`") or not value else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _tojson(value):
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _env(shell: bool) -> SandboxedEnvironment:
    kwargs = dict(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=False, undefined=StrictUndefined,
                  keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    if shell:
        kwargs["finalize"] = lambda v: shlex.quote(v if isinstance(v, str) else str(v))
    env = SandboxedEnvironment(**kwargs)
    env.filters.update(cell=md_cell, code=md_code, tojson=_tojson)
    return env


_ENVS: dict[bool, SandboxedEnvironment] = {}


def render(template: str, **context) -> str:
    """The template rendered, with every control character a card value brought in made visible
    (`\x1b`): a launcher or a README shown in a terminal must not clear it or rewrite its lines."""
    shell = template.endswith((".sh.j2", ".sbatch.j2"))
    if shell not in _ENVS:
        _ENVS[shell] = _env(shell)
    return escape_controls(_ENVS[shell].get_template(template).render(**context))
