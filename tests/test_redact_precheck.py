"""The redaction pre-checks (needles, the case-folded assigned_secret pattern, the Unix path
hint) only skip work: with them, every string comes out exactly as running every pattern on it
does, including the characters that re.IGNORECASE equates with ASCII letters."""
from hypothesis import given, settings, strategies as st

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
