"""No secret a card holds ever leaves cardrepro: not through `parse`, `audit`, `build`, `diff`
or an error message, whether the card writes it plainly, in a CLI flag, in YAML or JSON (as a
value or a key), with escapes that only decoding turns into the token, or split by an escaped
line break. The audit reports each one (kind and line, never the value)."""
import json

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from conftest import run_cli
from cardrepro.read import redact as R
from cardrepro.read.source import Line

CARD = r"""---
license: apache-2.0
base_model: bigscience/bloomz-560m
wandb_api_key: 5e1f0c0ffee0ddba11ab1eca7c0ffee0ddba11ab
hub_token: "\x68f_XqVnrTzLwPaKsEmYdBuHgJfCiO0123456789"
split_token: "hf_LmnOpqRstUvwXyzAbc\
  DefGhiJklMnoPqr9876"
---
# Tiny SFT card

Fine-tuned from bigscience/bloomz-560m with learning_rate 2e-5, code at commit 0a1b2c3d4e5f60718293a4b5c6d7e8f901234567.
Our token is hf\_PrOsEtOkEnAbCdEfGhIjKlMnOpQrSt0000. Data mirror: https://alice:Zq8vWmK2pLx9@data.example.com/train.jsonl

```bash
wandb login 9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b
deepspeed train.py --model_name_or_path bigscience/bloomz-560m --wandb_key 1234abcd5678ef901234abcd5678ef901234abcd --hub_token hf_CmDlInEtOkEnAbCdEfGhIjKlMnOpQrSt1111 --learning_rate 2e-5
export AWS_SECRET_ACCESS_KEY=Kx7Qm2Vp9Rt4Wz1Yb6Nc3Hd8Jf5Lg0Ts2Ua4Ei7O
export AWS_ACCESS_KEY_ID=ASIAZ7Q3M9K2P5W8R4T6
git clone https://github_pat_11AAAABBBB0123456789_CcDdEeFfGgHhIiJjKkLlMmNnOoPpQqRrSsTtUuVvWwXxYyZz012345@github.com/x/y
```

```json
{
  "gradient_accumulation_steps": 2,
  "hub_token": "\u0067hp_JsOnGhTokenAbCdEfGhIjKlMnOpQrSt2222",
  "\u0073k-proj-JsOnKeYAbCdEfGhIjKlMnOp3333": 1
}
```
"""

# (line, kind) of every secret in CARD, in card order
EXPECTED = [(4, "wandb_key"), (5, "huggingface_token"), (6, "huggingface_token"),
            (12, "huggingface_token"), (12, "url_credentials"), (15, "wandb_key"),
            (16, "huggingface_token"), (16, "wandb_key"), (17, "aws_secret_key"), (18, "aws_access_key"),
            (19, "github_token"), (25, "github_token"), (26, "openai_key")]

# a piece of each secret that its raw, escaped and decoded forms all contain (both halves of the
# split one), and each decoded token whole
LEAKS = ["5e1f0c0ffee0ddba11ab1eca7c0ffee0ddba11ab", "XqVnrTzLwPaKsEmYdBuHgJfCiO", "LmnOpqRstUvwXyzAbc",
         "DefGhiJklMnoPqr9876", "PrOsEtOkEnAbCdEf", "Zq8vWmK2pLx9", "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
         "1234abcd5678ef901234abcd5678ef901234abcd", "CmDlInEtOkEnAbCdEf", "Kx7Qm2Vp9Rt4Wz1Yb6Nc3Hd8Jf5Lg0Ts2Ua4Ei7O",
         "ASIAZ7Q3M9K2P5W8R4T6", "github_pat_11AAAABBBB", "JsOnGhTokenAbCdEf", "JsOnKeYAbCdEf",
         "hf_XqVnrTzLwPaKsEmYdBuHgJfCiO0123456789", "hf_LmnOpqRstUvwXyzAbcDefGhiJklMnoPqr9876",
         "hf_PrOsEtOkEnAbCdEfGhIjKlMnOpQrSt0000", "ghp_JsOnGhTokenAbCdEfGhIjKlMnOpQrSt2222",
         "sk-proj-JsOnKeYAbCdEfGhIjKlMnOp3333"]

SHA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"


def assert_no_leak(*outputs, folder=None):
    """No piece of a secret in any output, nor in any file under `folder`."""
    texts = {f"output {i}": text for i, text in enumerate(outputs)}
    if folder is not None:
        files = [p for p in folder.rglob("*") if p.is_file()]
        assert files, f"{folder} holds no file"
        texts.update({str(p): p.read_bytes().decode("utf-8", "replace") for p in files})
    leaks = [(where, s) for where, text in texts.items() for s in LEAKS if s in text]
    assert not leaks, leaks


@pytest.fixture
def card(write_card):
    return write_card(CARD)


def test_parse_json_and_text(card):
    out = run_cli("parse", card, "--format", "json")
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout)
    assert [(s["line"], s["kind"]) for s in spec["hygiene"]["secrets"]] == EXPECTED
    args = spec["command"]["args"]
    assert args[args.index("--wandb_key") + 1] == "[REDACTED:wandb_key]"
    text = run_cli("parse", card, "--format", "text")
    assert text.returncode == 0, text.stderr
    assert_no_leak(out.stdout, out.stderr, text.stdout, text.stderr)


def test_audit_lists_each_secret_by_kind_and_line(card):
    as_json = run_cli("audit", card, "--format", "json", "--fail-on", "never")
    as_text = run_cli("audit", card, "--fail-on", "never")
    assert as_json.returncode == 0 and as_text.returncode == 0, as_json.stderr + as_text.stderr
    findings = [f for f in json.loads(as_json.stdout)["reports"][0]["findings"] if f["code"] == "CR601"]
    assert sorted((f["lines"][0], f["data"]["kind"]) for f in findings) == sorted(EXPECTED)
    assert all(f["data"]["kind"] in f["message"] for f in findings)
    assert [l.split()[:1] for l in as_text.stdout.splitlines()].count(["CR601"]) == len(EXPECTED)
    assert_no_leak(as_json.stdout, as_json.stderr, as_text.stdout, as_text.stderr)


def test_build_writes_no_secret(card, tmp_path):
    out = run_cli("build", card, "-o", tmp_path / "project", "--assume")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "project" / "train_config.json").exists() and (tmp_path / "project" / "infer.sh").exists()
    assert_no_leak(out.stdout, out.stderr, folder=tmp_path / "project")


def test_diff_shows_no_secret(card, write_card):
    new = write_card(CARD.replace("--learning_rate 2e-5", "--learning_rate 3e-5")
                     .replace("Zq8vWmK2pLx9", "Yy7uVnJ1oKw8"), name="new.md")
    out = run_cli("diff", card, new)
    assert out.returncode == 1, out.stderr           # the specs differ (exit status as git diff --exit-code)
    assert '"2e-5" -> "3e-5"' in out.stdout
    assert "Yy7uVnJ1oKw8" not in out.stdout + out.stderr
    assert_no_leak(out.stdout, out.stderr)


def test_a_git_sha_is_not_a_wandb_key(card):
    lines = [Line(i, t) for i, t in enumerate(CARD.split("\n"), 1)]
    out, found = R.redact_lines(lines)
    assert SHA in out[10].text
    assert 11 not in [s["line"] for s in found["secrets"]]


@pytest.mark.parametrize("body, quoted", [
    # the validator quotes the bad value
    ('```yaml\nlearning_rate: "\\x68f_BadValueAbCdEfGhIjKlMnOpQrSt5555"\n```\n', "BadValueAbCdEf"),
    ('```json\n{"num_train_epochs": "\\u0073k-BadJsonValueAbCdEfGhIjKl6666"}\n```\n', "BadJsonValueAbCdEf"),
    ('learning_rate: "wandb login 0123456789abcdef0123456789abcdef01234567"\n', "0123456789abcdef0123456789abcdef01234567"),
])
def test_error_messages_never_quote_a_secret(write_card, tmp_path, body, quoted):
    """A value of the wrong type is a CR230 finding that quotes it: redacted, in every output."""
    card = write_card("---\nlicense: apache-2.0\nbase_model: bigscience/bloomz-560m\n---\n# m\n\n" + body)
    parse = run_cli("parse", card, "--format", "json")
    assert parse.returncode == 0, parse.stderr
    (bad,) = json.loads(parse.stdout)["hygiene"]["invalid_values"]
    assert "[REDACTED:" in bad["value"] and quoted not in parse.stdout + parse.stderr
    audit = run_cli("audit", card, "--format", "json", "--fail-on", "never")
    findings = json.loads(audit.stdout)["reports"][0]["findings"]
    assert any(f["code"] == "CR230" and "[REDACTED:" in f["message"] for f in findings), findings
    build = run_cli("build", card, "-o", tmp_path / "p", "--assume")
    assert build.returncode == 0, build.stderr
    written = "".join(p.read_text(errors="replace") for p in (tmp_path / "p").rglob("*") if p.is_file())
    for out in (audit.stdout + audit.stderr, build.stdout + build.stderr, written):
        assert quoted not in out


@pytest.mark.parametrize("key", ["\\u0073k-proj-DsKeyAbCdEfGhIjKlMnOp8888", "sk-proj-DsKeyAbCdEfGhIjKlMnOp8888"])
def test_a_secret_as_a_json_key_never_comes_back(write_card, tmp_path, key):
    """The build's DeepSpeed schema check names the unexpected key in its error."""
    card = write_card("---\nlicense: apache-2.0\nbase_model: bigscience/bloomz-560m\n---\n# m\n\nTrained with deepspeed:\n\n"
                      '```json\n{\n  "train_micro_batch_size_per_gpu": 4,\n'
                      f'  "zero_optimization": {{"stage": 2, "{key}": 1}}\n}}\n```\n')
    build = run_cli("build", card, "-o", tmp_path / "p", "--assume")
    assert build.returncode == 2 and "Additional properties are not allowed ('[REDACTED:openai_key]'" in build.stderr
    audit = run_cli("audit", card, "--format", "json", "--fail-on", "never")
    assert [f["lines"] for f in json.loads(audit.stdout)["reports"][0]["findings"] if f["code"] == "CR601"] == [[12]]
    for out in (build, audit, run_cli("parse", card, "--format", "json")):
        assert "DsKeyAbCdEf" not in out.stdout + out.stderr


def test_an_error_naming_a_secret_shaped_file_redacts_it(tmp_path):
    out = run_cli("parse", tmp_path / "hf_FileNameTokenAbCdEfGhIjKlMnOpQr7777.md")
    assert out.returncode == 2 and "no such file" in out.stderr
    assert "FileNameToken" not in out.stderr and "[REDACTED:huggingface_token]" in out.stderr


# ----------------------------------------------------------------------------- the reader
@pytest.mark.parametrize("text, kind", [
    ('x: "\\x68f_AbCdEfGhIjKlMnOpQrStUvWxYz0123"', "huggingface_token"),
    ('{"x": "\\u0073k-AbCdEfGhIjKlMnOpQrStUv"}', "openai_key"),
    ('x: "\\U00000067hp_AbCdEfGhIjKlMnOpQrStUvWxYz0123"', "github_token"),
    ('x: "ASIA\\x41BCDEFGHIJKLMNOP"', "aws_access_key"),
    ('x: "\\thf_AbCdEfGhIjKlMnOpQrStUvWxYz0123"', "huggingface_token"),  # raw: no word boundary
    ('x: "hf_AbCdEfGhIj\\\n   KlMnOpQrStUvWxYz0123"\ny: 1', "huggingface_token"),
    ('deepspeed train.py \\\n  --wandb_key \\\n  0123456789abcdef0123456789abcdef01234567 \\\n  --lr 1', "wandb_key"),
    ('wandb.login(key="0123456789abcdef0123456789abcdef01234567")', "wandb_key"),
    ('os.environ["WANDB_API_KEY"] = "0123456789abcdef0123456789abcdef01234567"', "wandb_key"),
    ('aws configure set aws_secret_access_key Kx7Qm2Vp9Rt4Wz1Yb6Nc3Hd8Jf5Lg0Ts2Ua4Ei7O', "aws_secret_key"),
    ('{"SecretAccessKey": "Kx7Qm2Vp9Rt4Wz1Yb6Nc3Hd8Jf5Lg0Ts2Ua4Ei7O"}', "aws_secret_key"),
    ('pip install git+https://bob:s3cr3t@git.example.org/x.git', "url_credentials"),
    ('token github_pat_11AAAABBBB0123456789_CcDdEeFfGg', "github_token"),
])
def test_each_form_is_redacted_and_decodes_to_the_redaction(text, kind):
    lines = [Line(i, t) for i, t in enumerate(text.split("\n"), 1)]
    out, found = R.redact_lines(lines)
    assert [s["kind"] for s in found["secrets"]] == [kind]
    assert len(out) == len(lines)
    joined = "\n".join(l.text for l in out)
    assert f"[REDACTED:{kind}]" in R._Decoded(joined).text
    assert R.redact_lines(out) == (out, {"secrets": [], "absolute_paths": []})  # idempotent
    if text.startswith(("x:", "{")):  # still YAML/JSON that decodes to the redaction
        assert f"[REDACTED:{kind}]" in json.dumps(yaml.safe_load(joined))


@pytest.mark.parametrize("text", [
    f"trained at commit {SHA}", f"revision: {SHA}", f"sha256 {SHA}{SHA[:24]}",
    "https://user:$TOKEN@host/x", "https://<user>:<token>@host", "see https://huggingface.co/a/b@main",
    "wandb login", "export WANDB_API_KEY=$KEY", "a \\frac{1}{2} \\nabla formula \\_ here",
])
def test_credential_shaped_text_that_is_no_secret_stays(text):
    out, found = R.redact_lines([Line(1, text)])
    assert out[0].text == text and found == {"secrets": [], "absolute_paths": []}


PIECES = ["hf_", "sk-", "ghp_", "AbCdEfGhIjKlMnOpQrStUvWxYz0123", "\\x68f_", "\\u0073k-", "\\u0067hp_", "\\",
          "\\\n  ", "\n", '"', "x: ", "\\_", "\\t", "\\/home\\/a\\/b", "/home/", "token: ", "wandb login ",
          "0123456789abcdef" * 3, "://u:", "@h", " "]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=4)), max_size=12).map("".join))
def test_redacted_lines_decode_to_no_secret(text):
    lines = [Line(i, t) for i, t in enumerate(text.split("\n"), 1)]
    out, _ = R.redact_lines(lines)
    assert [l.no for l in out] == [l.no for l in lines]
    for decoded in R._Decoded("\n".join(l.text for l in out)).text.split("\n"):
        assert not [kind for kind, pat, _ in R.SECRET_PATTERNS if pat.search(decoded)], decoded


def test_escaped_unix_paths_go_and_windows_paths_stay_whole():
    out, found = R.redact_lines([Line(1, '{"data": "\\/home\\/alice\\/data\\/x.json"}'),
                                 Line(2, "* C:\\Users\\me\\mergekit\\nbeerbower_model-12B")])
    assert out[0].text == '{"data": "<local>/x.json"}'
    # a Windows path's backslashes are separators: `\n` here is no line break to decode
    assert out[1].text == R.redact_text(out[1].text) == "* <local>/nbeerbower_model-12B"
    assert found["absolute_paths"] == [{"line": 1, "path": "<local>/x.json"},
                                       {"line": 2, "path": "<local>/nbeerbower_model-12B"}]


def test_the_decoded_pass_reads_no_further_than_the_plain_one():
    """A card with an escape somewhere is decoded whole; a line break it did not escape still
    ends a match."""
    lines = [Line(1, 'x: "\\t"'), Line(2, "password:"), Line(3, "abcdefghijklmnop")]
    assert R.redact_lines(lines) == (lines, {"secrets": [], "absolute_paths": []})
