"""A Hugging Face chat template for the card's prompt format.

Card strings enter the template only as Jinja string literals, escaped here, so no card text is
ever interpreted as template syntax. The template is one line: transformers renders chat
templates with trim_blocks and lstrip_blocks, and one line keeps every byte under our control."""
from __future__ import annotations


def jinja_string(value: str | None) -> str:
    """A Jinja string literal that evaluates to exactly `value`.

    Jinja's lexer reads a literal as `s.encode("ascii", "backslashreplace").decode("unicode-escape")`,
    so backslash, quote and control characters are escaped and everything else is kept as is."""
    if value is None:
        value = ""
    out = ['"']
    for ch in value:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif 0xD800 <= ord(ch) <= 0xDFFF:
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def chat_template(prompt: dict) -> str:
    """Renders: each message as prefix + content + suffix of its role; with
    add_generation_prompt the assistant prefix is appended (the inference prompt)."""
    s = {k: jinja_string(prompt.get(k)) for k in (
        "system_prefix", "system_suffix", "user_prefix", "user_suffix", "assistant_prefix", "assistant_suffix")}
    return (
        "{%- for message in messages -%}"
        "{%- if message['role'] == 'system' -%}"
        f"{{{{ {s['system_prefix']} + message['content'] + {s['system_suffix']} }}}}"
        "{%- elif message['role'] == 'user' -%}"
        f"{{{{ {s['user_prefix']} + message['content'] + {s['user_suffix']} }}}}"
        "{%- elif message['role'] == 'assistant' -%}"
        f"{{{{ {s['assistant_prefix']} + message['content'] + {s['assistant_suffix']} }}}}"
        "{%- else -%}"
        "{{ raise_exception('unknown role: ' + message['role']) }}"
        "{%- endif -%}"
        "{%- endfor -%}"
        "{%- if add_generation_prompt -%}"
        f"{{{{ {s['assistant_prefix']} }}}}"
        "{%- endif -%}"
    )
