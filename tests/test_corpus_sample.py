"""Real published cards through `parse_card`, in one process: a fixed sample of the Hub corpus
(every 20th README by name) parses or is refused with CardError, each well within 2 s; and
`python -m cardrepro.coverage` on small corpora built here. The whole corpus: bench/hub_corpus.py."""
import re
import time

import pytest

from cardrepro.coverage import corpus_files
from cardrepro.errors import CardError
from cardrepro.read import source
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT, run_cli

CORPUS = ROOT.parent / "shared" / "corpus" / "hub-readmes"
STEP = 20
BUDGET_S = 2.0        # the bound per card
RETIMES = 2           # a card over budget is timed again (best of 3): a load spike is not a slow card


def timed_parse(path):
    t = time.perf_counter()
    try:
        parse_card(path)
        outcome = "parsed"
    except CardError as err:
        outcome = f"refused: {err}"
    except Exception as err:  # the finding this test exists for: recorded, then asserted on
        outcome = f"exception: {type(err).__name__}: {err}"
    return outcome, time.perf_counter() - t


def readable(path):
    try:
        source.decode(path, source.load_bytes(path))
        return True
    except CardError:
        return False


@pytest.fixture(scope="module")
def sample():
    if not CORPUS.is_dir():
        pytest.skip(f"the Hub corpus is not beside this checkout ({CORPUS})")
    results = {}
    for path in corpus_files(CORPUS)[::STEP]:
        outcome, seconds = timed_parse(path)
        for _ in range(RETIMES if seconds > BUDGET_S else 0):
            seconds = min(seconds, timed_parse(path)[1])
        results[path] = (outcome, seconds)
    return results


def test_sample_is_the_fixed_sample(sample):
    names = [p.name for p in sample]
    assert len(names) == len(range(0, len(corpus_files(CORPUS)), STEP)) >= 150
    assert names[0] == corpus_files(CORPUS)[0].name


def test_only_card_errors(sample):
    bugs = [f"{p.name}: {o}" for p, (o, _) in sample.items() if o.startswith("exception")]
    assert not bugs, "\n".join(bugs)


def test_no_card_over_the_budget(sample):
    slow = [f"{p.name}: {s:.2f} s" for p, (_, s) in sample.items() if s > BUDGET_S]
    assert not slow, "\n".join(slow)


def test_refusals_are_reported(sample, capsys):
    refused = {p.name: o for p, (o, _) in sample.items() if o.startswith("refused")}
    with capsys.disabled():
        print(f"\ncorpus sample: {len(sample)} cards, {len(sample) - len(refused)} parsed, {len(refused)} refused")
    # a refusal is one line naming the card: never a multi-line dump
    assert all("\n" not in o and o.startswith(f"refused: {CORPUS / n}:") for n, o in refused.items())


def test_no_readable_card_refused(sample):
    refused = [f"{p.name}: {o}" for p, (o, _) in sample.items() if o.startswith("refused") and readable(p)]
    assert not refused, f"{len(refused)} readable cards refused, e.g.\n" + "\n".join(refused[:10])


# --- python -m cardrepro.coverage ---------------------------------------------------------------
def coverage(folder, *args):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "cardrepro.coverage", str(folder), *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def row(report, family):
    line = next(l for l in report.splitlines() if l.startswith(f"| {family} |"))
    return [c.strip() for c in line.strip("|").split("|")]


@pytest.fixture
def small_corpus(tmp_path):
    corpus = tmp_path / "mini"
    corpus.mkdir()
    for name in ("stablelm-7b-sft", "bloomz-mona-lora"):
        (corpus / f"{name}.md").write_bytes((CARDS / f"{name}.md").read_bytes())
    (corpus / "empty.md").write_text("\n", encoding="utf-8")
    (corpus / "prose.md").write_text("# A model\n\nIt answers questions.\n", encoding="utf-8")
    (corpus / "notes.txt").write_text("not a card: not in the corpus", encoding="utf-8")
    return corpus


def test_coverage_counts_what_cards_state(small_corpus):
    res = coverage(small_corpus)
    assert res.returncode == 0, res.stderr
    report = res.stdout
    assert "Corpus `mini`: 4 cards" in report
    refusals = re.findall(r"^\| .+ \| (\d+) \|$", report.split("## Refused cards")[1], re.M)
    refused = sum(map(int, refusals))
    assert f"Parsed: {4 - refused}; refused with exit 2 (`CardError`): {refused}; other exceptions: 0." in report
    assert "| empty card | 1 |" in report
    # stablelm states its base model, data, schedule and command; its learning rate is the trainer's default
    assert row(report, "base model")[1] == "2"
    assert row(report, "DeepSpeed")[1:3] == ["1", "25.0 %"]
    # the first card is named by its id: the file name without .md
    assert row(report, "command")[1] == "1" and row(report, "command")[4] == "stablelm-7b-sft"
    assert row(report, "sequence length")[4] == "stablelm-7b-sft"
    assert row(report, "LoRA")[4] == "bloomz-mona-lora"
    assert row(report, "learning rate")[4] != "stablelm-7b-sft"


def test_coverage_is_deterministic(small_corpus, tmp_path):
    out_a, out_b = tmp_path / "a.md", tmp_path / "b.md"
    assert coverage(small_corpus, "-o", out_a).returncode == 0
    assert coverage(small_corpus, "-o", out_b).returncode == 0
    assert out_a.read_bytes() == out_b.read_bytes()
    (small_corpus / "stablelm-7b-sft.md").write_text("# changed\n", encoding="utf-8")
    assert coverage(small_corpus, "-o", out_b).returncode == 0
    assert out_a.read_bytes() != out_b.read_bytes()


def test_coverage_of_no_corpus_is_exit_2(tmp_path):
    res = coverage(tmp_path / "nowhere")
    assert res.returncode == 2 and res.stderr.strip() == f"{tmp_path / 'nowhere'}:0: not a folder of model cards (*.md)"


def test_docs_coverage_lists_every_family():
    from cardrepro.coverage import families
    doc = (ROOT / "docs" / "coverage.md").read_text(encoding="utf-8")
    assert "python -m cardrepro.coverage" in doc
    for name, _ in families():
        assert f"| {name} |" in doc


def test_hub_corpus_bench_counts_a_small_corpus(small_corpus, tmp_path):
    import json
    import subprocess
    import sys
    out = tmp_path / "hub.json"
    res = subprocess.run([sys.executable, str(ROOT / "bench" / "hub_corpus.py"), str(small_corpus), "--passes", "1",
                          "--json", str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    r = json.loads(out.read_text())["hub_corpus"]
    assert r["cards"] == 4 and r["parsed"] + r["refused"] == 4 and r["exceptions"] == []
    assert r["refusals"]["empty card"] == 1
    assert "hub corpus: parse (4 READMEs)" in res.stdout
