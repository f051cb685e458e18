"""The audit is a function of the spec (it never reopens the card), what a card leaves open is
decided once (cardrepro/assume.py) for the audit and the project alike, and no module of
cardrepro imports another in a cycle."""
import ast
import copy
import dataclasses
import json
import shutil

import pytest

from cardrepro import assume
from cardrepro.audit import audit_report, audit_spec, context, render
from cardrepro.project.project import render_project
from cardrepro.project.compose import compose
from cardrepro.spec import parse_card
from conftest import CARDS, ROOT, SEEDS, run_cli

REAL = ROOT.parent / "shared" / "realcards" / "cards"
REAL_CARDS = ["oasst-sft-4-pythia-12b.md", "stablelm-tuned-alpha-7b.md", "zephyr-7b-beta.md",
              "guanaco-65b.md"]
PACKAGE = ROOT / "cardrepro"


# ----------------------------------------------------------------------------- import graph
def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree, modules):
    """cardrepro modules a file imports anywhere in it (function bodies included)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("cardrepro"))
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("cardrepro"):
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
    return {m for m in out if m in modules}


def import_graph():
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(ast.parse(path.read_text(encoding="utf-8")), files) - {name}
            for name, path in files.items()}


def find_cycle(graph):
    """One import cycle as a list of modules, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_imports_in_a_cycle():
    graph = import_graph()
    assert "cardrepro.audit.missing" in graph and "cardrepro.assume" in graph
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph))


def test_the_cycle_finder_finds_function_level_imports(tmp_path):
    a = ast.parse("def f():\n    from cardrepro.b import g\n")
    b = ast.parse("from cardrepro import a\n")
    modules = {"cardrepro.a": None, "cardrepro.b": None}
    graph = {"cardrepro.a": _imports(a, modules), "cardrepro.b": _imports(b, modules)}
    assert find_cycle(graph) == ["cardrepro.a", "cardrepro.b", "cardrepro.a"]


def test_the_project_reads_no_audit_internals():
    graph = import_graph()
    project = {name: deps for name, deps in graph.items() if name.startswith("cardrepro.project.")}
    assert project, "no cardrepro.project modules in the import graph"
    for name, deps in project.items():
        assert not {d for d in deps if d.startswith("cardrepro.audit.")}, (name, deps)


# ----------------------------------------------------------------------------- no card file
def _cards():
    seeds = [CARDS / f"{n}.md" for n in SEEDS]
    real = [REAL / n for n in REAL_CARDS if (REAL / n).exists()]
    return seeds + real


@pytest.mark.parametrize("card", _cards(), ids=lambda p: p.name)
def test_audit_is_the_same_without_the_card_file(tmp_path, card):
    copy_ = tmp_path / card.name
    shutil.copyfile(card, copy_)
    with_card = run_cli("audit", str(copy_), "--format", "json", "--fail-on", "never")
    assert with_card.returncode == 0, with_card.stderr
    spec = parse_card(str(copy_))
    kept = copy.deepcopy(spec)
    copy_.unlink()                                     # the card is gone; the spec is all there is
    report = audit_report(spec)
    assert render.to_json([report]) == with_card.stdout   # byte-identical JSON report
    assert json.loads(with_card.stdout)["reports"][0]["findings"] == audit_spec(spec)
    assert spec == kept                                # and the audit wrote nothing into the spec


@pytest.mark.parametrize("card", [*_cards(), ROOT / "tests" / "fixtures" / "audit" / "secret-card.md"],
                         ids=lambda p: p.name)
def test_a_corpus_row_keeps_the_report_codes_and_score(card):
    """codes_and_score (what `cardrepro audit --corpus` keeps of a card) skips the scrub of the
    findings' text, not a finding: a card with a secret and a machine path included."""
    from cardrepro.audit import codes_and_score
    spec = parse_card(str(card))
    report = audit_report(spec)
    codes, score = codes_and_score(spec)
    assert codes == sorted({f["code"] for f in report["findings"]}) and score == report["score"]["score"]
    assert codes and ("CR601" in codes) == (card.name == "secret-card.md")


def test_audit_of_a_spec_whose_card_moved(tmp_path):
    card = tmp_path / "a" / "stablelm.md"
    card.parent.mkdir()
    shutil.copyfile(CARDS / "stablelm-7b-sft.md", card)
    spec = parse_card(str(card))
    before = render.to_json([audit_report(spec)])
    card.rename(tmp_path / "elsewhere.md")
    (tmp_path / "a" / "stablelm.md").write_text("# another card entirely\n")   # a different file at the path
    assert render.to_json([audit_report(spec)]) == before


# ----------------------------------------------------------------------------- one gap filler
@pytest.fixture(scope="module")
def stablelm():
    return parse_card(str(CARDS / "stablelm-7b-sft.md"))


def test_derived_numbers_are_frozen(stablelm):
    ctx = context(stablelm)
    assert ctx.derived.world == 4 and ctx.derived.global_batch == 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.derived.world = 8
    with pytest.raises(TypeError):
        ctx.derived.implied["world"] = 8


def test_gpt_neox_card_without_max_length_audit_and_project_agree(stablelm):
    """The design review's example: the audit named build_defaults' 2048 for gpt_neox while the
    project applied the model config's 4096."""
    spec = copy.deepcopy(stablelm)
    del spec["training"]["max_length"]
    del spec["provenance"]["training.max_length"]
    applied = compose(spec)["train_config"]["loop"]["max_length"]
    reported = next(f for f in audit_spec(spec) if f["code"] == "CR207")
    assert applied == reported["data"]["assumed"] == assume.max_length(spec)[0] == 4096
    assert "model_configs.yaml" in reported["action"]


@pytest.mark.parametrize("path", ["training.num_gpus", "training.max_length", "training.dtype",
                                  "training.per_device_train_batch_size", "training.learning_rate"])
@pytest.mark.parametrize("name", SEEDS)
def test_every_assumption_the_audit_reports_is_what_the_project_applies(name, path):
    spec = parse_card(str(CARDS / f"{name}.md"))
    model = compose(spec)
    applied = {a["path"]: a for a in model["assumed"]}
    reported = [f for f in audit_spec(spec) if f["code"].startswith("CR2") and path in f["paths"]
                and (f.get("data") or {}).get("assumed") is not None]
    for f in reported:
        assert path in applied, (path, f["action"])
        assert applied[path]["value"] == f["data"]["assumed"]
        assert applied[path]["source"] in f["action"]


def test_the_memory_chart_needs_no_findings(stablelm):
    with_audit = render_project(stablelm, audit_spec(stablelm))
    without = render_project(stablelm, None)
    assert with_audit["memory.svg"] == without["memory.svg"]
    rows = next(f for f in audit_spec(stablelm) if f["code"] == "CR502")["data"]["rows"]
    assert f"{sum(rows[0][k] for k in ('weights', 'gradients', 'optimizer', 'buffer', 'activations_gc')) / 1e9:.1f} GB" \
        in with_audit["memory.svg"].decode()
