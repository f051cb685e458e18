"""Bad input: exit code 2 and one line `FILE:LINE: what is wrong`, never a traceback."""
import re

import pytest

from conftest import run_cli

# Only what cannot be read is refused: a malformed block or a card without training facts is read
# (tests/test_precedence.py).
CASES = {
    "missing": (None, r"no such file"),
    "directory": ("DIR", r"is a directory"),
    "non_utf8": (b"# card\nlr: 1e-5\n\xff\xfe bad\n", r":3: not UTF-8"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00", r"binary content"),
    "empty": (b"  \n\n", r":1: empty card"),
    "alias_bomb": (("---\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8)) + "---\n").encode(),
        r"alias"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_exit_2_one_line(tmp_path, case):
    content, pattern = CASES[case]
    path = tmp_path / "card.md"
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    res = run_cli("parse", path, "--format", "json")
    assert res.returncode == 2, (res.stdout, res.stderr)
    err = res.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert err.startswith(str(path) + ":") and re.search(pattern, err), err


def test_oversized_card(tmp_path):
    path = tmp_path / "big.md"
    path.write_bytes(b"# big\n" + b"x" * (5 * 1024 * 1024 + 10))
    res = run_cli("parse", path)
    assert res.returncode == 2 and "limit" in res.stderr and "Traceback" not in res.stderr


def test_impossible_value_points_at_its_card_line(tmp_path):
    """A number the schema cannot hold is an error of that value: dropped, recorded with its card line
    and reported by the audit (CR230), not a parse failure of the whole card."""
    import json
    path = tmp_path / "card.md"
    path.write_text("# m\nBase model: org/llama-7b\n\n```json\n{\n\"zero_optimization\": {\"stage\": 4}\n}\n```\n", encoding="utf-8")
    res = run_cli("parse", path, "--format", "json")
    assert res.returncode == 0, res.stderr
    spec = json.loads(res.stdout)
    assert "stage" not in spec["deepspeed"]
    [bad] = spec["hygiene"]["invalid_values"]
    assert (bad["path"], bad["value"], bad["line"]) == ("deepspeed.stage", "4", 6)
    assert bad["reason"].startswith("the spec schema refuses it: 4 is not one of")
    audit = run_cli("audit", path, "--fail-on", "never")
    assert re.search(r"CR230 L6 +deepspeed.stage = 4 is not a usable value", audit.stdout), audit.stdout


def test_partial_table_debris_does_not_reach_values(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("# m\nBase model: org/llama-7b\n\n```yaml\ncfg:\n  learning_rate: 2e-5 |\n  warmup_steps: 10\n```\n", encoding="utf-8")
    res = run_cli("parse", path, "--format", "json")
    assert res.returncode == 0, res.stderr
    import json
    assert json.loads(res.stdout)["training"]["learning_rate"] == 2e-5


def test_internal_error_is_one_line_exit_3(tmp_path, monkeypatch, capsys):
    """A bug (not bad input) still prints one line, exit 3, and says how to get the traceback."""
    import cardrepro.spec
    from cardrepro.cli import main

    monkeypatch.setattr(cardrepro.spec, "parse_card", lambda path: 1 / 0)
    monkeypatch.delenv("CARDREPRO_DEBUG", raising=False)
    with pytest.raises(SystemExit) as ex:
        main(["parse", "cards/stablelm-7b-sft.md"])
    assert ex.value.code == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith("cardrepro: internal error: ZeroDivisionError") and "\n" not in err
