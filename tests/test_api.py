"""The public Python API (`from cardrepro import parse_card, audit_spec`), the README's example of it,
and `cardrepro parse ORG/NAME` reading a model's README.md from a local Hugging Face cache."""
import json
import re
import subprocess
import sys

import pytest

from conftest import CARDS, ROOT, run_cli

SEED = CARDS / "stablelm-7b-sft.md"
MODEL_ID = "someorg/Some-Model.v2"
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"


def fresh_python(code, cwd):
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    return res.stdout


def test_api_gives_the_cli_spec_and_findings(tmp_path):
    out = fresh_python(
        "import json\n"
        "from cardrepro import parse_card, audit_spec\n"
        f"spec = parse_card({str(SEED)!r})\n"
        "print(json.dumps({'spec': spec, 'findings': audit_spec(spec)}))\n", tmp_path)
    got = json.loads(out)
    cli_spec = json.loads(run_cli("parse", SEED, "--format", "json").stdout)
    cli_audit = json.loads(run_cli("audit", SEED, "--format", "json", "--fail-on", "never").stdout)
    assert got["spec"] == cli_spec
    assert got["spec"]["base_model"]["name"] == "stabilityai/stablelm-base-alpha-7b"
    assert [f["code"] for f in got["findings"]] == [f["code"] for f in cli_audit["reports"][0]["findings"]]
    assert got["findings"] and all({"code", "severity", "message"} <= set(f) for f in got["findings"])


def test_api_raises_card_error_for_bad_input(tmp_path):
    from cardrepro import CardError, parse_card
    empty = tmp_path / "empty.md"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(CardError) as err:
        parse_card(empty)
    assert str(err.value).startswith(f"{empty}:1: ")


def test_import_cardrepro_is_light(tmp_path):
    out = fresh_python(
        "import sys, cardrepro\n"
        "print(sorted(m for m in ('cardrepro.spec', 'cardrepro.audit', 'jsonschema', 'yaml', 'huggingface_hub') "
        "if m in sys.modules))\n"
        "print(cardrepro.__version__, 'parse_card' in dir(cardrepro))\n", tmp_path)
    assert out.splitlines() == ["[]", "0.1.0 True"]


def test_unknown_attribute_is_attribute_error():
    import cardrepro
    with pytest.raises(AttributeError):
        cardrepro.no_such_thing  # noqa: B018


def test_readme_api_example_runs(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert "from cardrepro import parse_card, audit_spec" in code
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    first, *rest = res.stdout.splitlines()
    assert first == "stabilityai/stablelm-base-alpha-7b 182"
    assert rest[-1] == "cards/missing.md 0 no such file"
    assert any(line.startswith(("error CR", "warning CR", "info CR")) for line in rest)


# --- cardrepro parse ORG/NAME -----------------------------------------------------------------
def hf_cache(root, model_id, readme_bytes):
    """A Hugging Face hub cache at ROOT/hub, laid out as huggingface_hub writes it."""
    repo = root / "hub" / ("models--" + model_id.replace("/", "--"))
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(SNAPSHOT)
    snap = repo / "snapshots" / SNAPSHOT
    snap.mkdir(parents=True)
    (snap / "README.md").write_bytes(readme_bytes)
    return snap / "README.md"


def offline_env(root):
    return {"HF_HOME": str(root), "HF_HUB_CACHE": str(root / "hub"), "HF_HUB_OFFLINE": "1"}


def test_parse_model_id_reads_the_cached_readme(tmp_path):
    readme = hf_cache(tmp_path, MODEL_ID, SEED.read_bytes())
    res = run_cli("parse", MODEL_ID, "--format", "json", cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 0, res.stderr
    spec = json.loads(res.stdout)
    direct = json.loads(run_cli("parse", SEED, "--format", "json").stdout)
    assert spec["name"] == "someorg-some-model-v2"
    assert spec["card"]["path"] == str(readme)
    assert spec["card"]["sha256"] == direct["card"]["sha256"]
    strip = lambda s: {k: v for k, v in s.items() if k not in ("name", "card")}  # noqa: E731
    assert strip(spec) == strip(direct)


def test_parse_model_id_text_view(tmp_path):
    hf_cache(tmp_path, MODEL_ID, SEED.read_bytes())
    res = run_cli("parse", MODEL_ID, cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("someorg-some-model-v2  (")
    assert "training.max_length = 4096  [card line 182]" in res.stdout


def test_parse_model_id_not_cached_offline_is_exit_2(tmp_path):
    hf_cache(tmp_path, MODEL_ID, SEED.read_bytes())
    res = run_cli("parse", "someorg/other-model", cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("someorg/other-model:0: no such file")
    assert "not in the Hugging Face cache" in lines[0] and "HF_HUB_OFFLINE" in lines[0]


def test_parse_model_id_with_a_bad_readme_is_the_card_error(tmp_path):
    hf_cache(tmp_path, MODEL_ID, b"\x00\x01 binary")
    res = run_cli("parse", MODEL_ID, cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 2
    assert res.stderr.strip().endswith("README.md:1: binary content (NUL byte), not a text card")


@pytest.mark.parametrize("arg", ["cards/nope.md", "org/model-card.markdown", "nope"])
def test_missing_card_files_are_not_model_ids(tmp_path, arg):
    res = run_cli("parse", arg, cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 2
    assert res.stderr.strip() == f"{arg}:0: no such file"


def test_an_existing_file_shaped_like_a_model_id_is_read_as_a_file(tmp_path):
    (tmp_path / "someorg").mkdir()
    (tmp_path / "someorg" / "mycard").write_bytes(SEED.read_bytes())
    res = run_cli("parse", "someorg/mycard", cwd=tmp_path, env=offline_env(tmp_path))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("mycard  (someorg/mycard, ")


def test_parse_model_id_stays_light(tmp_path):
    hf_cache(tmp_path, MODEL_ID, SEED.read_bytes())
    code = ("import sys\nfrom cardrepro.cli import main\n"
            f"try:\n    main(['parse', {MODEL_ID!r}, '--format', 'json'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=120,
                         env={**__import__("os").environ, **offline_env(tmp_path)})
    assert res.returncode == 0 and "HEAVY []" in res.stdout, res.stdout[-1000:] + res.stderr[-1000:]
    assert '"name": "someorg-some-model-v2"' in res.stdout


def test_parse_of_a_file_never_imports_huggingface_hub(tmp_path):
    out = fresh_python(
        "import sys\nfrom cardrepro.cli import main\n"
        f"try:\n    main(['parse', {str(SEED)!r}, '--format', 'json'])\nexcept SystemExit:\n    pass\n"
        "print('HUB', 'huggingface_hub' in sys.modules)\n", tmp_path)
    assert out.rstrip().endswith("HUB False")
