"""The benchmark corpus (bench/corpus.py): at least 1,000 distinct card variants, each of which
parses or fails with CardError (exit 2) — never another exception. Nothing is timed."""
import hashlib
import sys
from pathlib import Path

from cardrepro.errors import CardError
from cardrepro.spec import parse_card

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import corpus  # noqa: E402


def test_corpus_variants_parse_or_card_error(tmp_path):
    paths = corpus.write(tmp_path, 1000)
    assert len(paths) == 1000
    digests = {hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    assert len(digests) == 1000
    sources = {p.name.split("--")[0] for p in paths}
    assert {"stablelm-7b-sft", "bloom-zh-3b-sft", "bloomz-mona-lora", "ziya-llama-13b-v1"} <= sources
    parsed = failed = 0
    for p in paths:
        try:
            spec = parse_card(p)
        except CardError as err:
            assert err.path == str(p)
            failed += 1
        else:
            assert spec["card"]["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
            parsed += 1
    assert parsed > failed          # mostly real cards, not noise


def test_corpus_is_deterministic():
    a = corpus.generate(30, seed=3)
    b = corpus.generate(30, seed=3)
    assert a == b
    assert {m for _, _, ms in a for m in ms} == set(corpus.MUTATIONS)


def test_every_parsed_variant_audits_and_builds(tmp_path):
    """Downstream of the parser too: whatever parses, the audit reads and the build renders."""
    from cardrepro.audit import audit_spec
    from cardrepro.project.project import render_project

    built = 0
    for p in corpus.write(tmp_path, 80, seed=11):
        try:
            spec = parse_card(p)
        except CardError:
            continue
        files = render_project(spec, audit_spec(spec, card_text=p.read_text(encoding="utf-8")))
        assert "train_config.json" in files and "README.md" in files
        built += 1
    assert built >= 60
