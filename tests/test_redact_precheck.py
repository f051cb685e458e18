"""The redaction pre-checks (needles, the case-folded assigned_secret pattern, the Unix path
hint) only skip work: with them, every string comes out exactly as running every pattern on it
does, including the characters that re.IGNORECASE equates with ASCII letters."""
from hypothesis import assume, given, settings, strategies as st

from cardrepro.read import redact as R
from cardrepro.read.source import Line


def reference_redact(text):
    """Every pattern on every string, in order, no pre-checks."""
    for kind, pat, _ in R.SECRET_PATTERNS:
        text = pat.sub(lambda m, k=kind: R._mask(m, k), text)
    return R.ABS_PATH.sub(lambda m: R._local(m.group(0)), text)


PIECES = [
    "token", "TOKEN", "ToKeN", "toKen", "ſecret", "paſſword", "apı_key", "APİ_KEY", "secret",
    "access_token", "auth_token", "api-key", "apikey", "password", "\u212a", "=", ":", " ", "'", '"',
    "\n", "[REDACTED", "abcdefghijklmnopqrstuvwxyz0123456789", "ABCDEFGHIJKLMNOP", "hf_",
    "sk-", "sk-proj-", "ghp_", "AKIA", "WANDB_API_KEY=", "0123456789abcdef" * 3, "/home/", "/data1/",
    "x/home/a", "C:\\", "c:\\Users\\me", "/mnt/", "~", ".", "-", "|", "中文", "İ", "ı", "ſ",
    "ASIA", "github_pat_", "wandb", "WandB", "wAndb_Api_kEy", "--wandb_key ", "wandb login ", "--relogin ",
    "wandb.login(key=", "aws_secret_access_key", "AWS_SECRET_KEY", "SecretAccessKey", "ſecret_acceſſ_key",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "://", "https://", "user:pa55@", "@host", "$TOKEN", "<token>",
]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=14).map("".join))
def test_precheck_never_changes_the_result(text):
    assert R.redact_text(text) == reference_redact(text)
    assert all(check(text) for _, pat, check in R.SECRET_PATTERNS if pat.search(text))
    assert R._may_hold_path(text) or not R.ABS_PATH.search(text)


def test_folded_characters_are_still_found():
    for text in ("ſecret: abcdefghijklmnop", "APİ_KEY=abcdefghijklmnop", "apı_key=abcdefghijklmnop",
                 "\u212aey token = abcdefghijklmnop"):
        assert "[REDACTED:assigned_secret]" in R.redact_text(text), text


def test_lines_report_every_secret_and_path():
    lines = [Line(1, "nothing here"), Line(2, "export HF_TOKEN=hf_" + "a" * 34),
             Line(3, "data at /home/alice/data/train.json"), Line(4, "password: hunter2hunter2")]
    out, found = R.redact_lines(lines)
    assert [l.text for l in out] == [reference_redact(l.text) for l in lines]
    # line 2's HF_TOKEN= is not a second finding: its value is already [REDACTED:huggingface_token]
    assert found["secrets"] == [{"line": 2, "kind": "huggingface_token"}, {"line": 4, "kind": "assigned_secret"}]
    assert found["absolute_paths"] == [{"line": 3, "path": "<local>/train.json"}]


# Values and lines are searched as one joined text (one regex pass per pattern, not one per
# string); a string comes out as redacting it alone does, whatever its neighbours hold.
TEXTS = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=8).map("".join)


def _nest(strings, shape):
    """The strings in nested lists and dicts (strings as keys too), as `shape` says."""
    out, i = [], 0
    for depth in shape:
        piece = strings[i:i + 2]
        i += 2
        out.append({piece[0]: piece[1:]} if depth % 2 and piece else [piece] * (depth % 3))
    return out + [strings[i:]]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(TEXTS, max_size=10), st.lists(st.integers(0, 5), max_size=4))
def test_a_value_is_redacted_string_by_string(strings, shape):
    value = _nest(strings, shape)

    def reference(v):
        if isinstance(v, dict):
            return {reference_redact(k): reference(x) for k, x in v.items()}
        return [reference(x) for x in v] if isinstance(v, list) else reference_redact(v)

    assert R.redact_value(value) == reference(value)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(TEXTS.map(lambda t: t.replace("\n", " ")), max_size=10))
def test_lines_are_redacted_line_by_line(texts):
    # a text holding an escape is decoded too (JSON's `\/home\/me`), which this plain reference
    # does not do: the escaped pass has its own tests (test_secrets, test_reader_fast_paths)
    assume(not any(R._ESCAPE.search(t) for t in texts))
    out, found = R.redact_lines([Line(i + 1, t) for i, t in enumerate(texts)])
    assert [l.text for l in out] == [reference_redact(t) for t in texts]
    assert len(found["secrets"]) == sum(t.count("[REDACTED:") for t in map(reference_redact, texts)) \
        - sum(t.count("[REDACTED:") for t in texts)


def test_a_secret_after_a_line_that_ends_in_a_secret_word_is_redacted():
    # "password:" and the line break before the next line once matched as one secret that
    # started on line 1, and line 2 (which was never searched alone) kept its secret
    lines = [Line(1, "password:"), Line(2, "secret=abcdefghijklmnop")]
    out, found = R.redact_lines(lines)
    assert out[1].text == "secret=[REDACTED:assigned_secret]"
    assert found["secrets"] == [{"line": 2, "kind": "assigned_secret"}]
    assert R.redact_value(["password:", "secret=abcdefghijklmnop"]) == ["password:", "secret=[REDACTED:assigned_secret]"]


def test_a_value_that_holds_itself_is_redacted_once():
    value = ["token: abcdefghijklmnop"]
    value.append(value)
    out = R.redact_value(value)
    assert out[0] == "token: [REDACTED:assigned_secret]" and out[1] is out


def test_a_path_the_line_shows_keeps_its_escapes_as_written():
    # found by CI's hypothesis run: `/home/\0` once became "<local>/" + NUL (the decoded path)
    out, found = R.redact_lines([Line(1, "/home/\\0")])
    assert out[0].text == "<local>/0" and "\x00" not in out[0].text
    assert found["absolute_paths"] == [{"line": 1, "path": "<local>/0"}]
