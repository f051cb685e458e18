"""Every candidate kept, one winner per path by the trainer profile's precedence (data), every
loser that differs a conflict the audit reports; trainer profiles as diffs on TrainingArguments;
no readable card refused (only build refuses a card with nothing to build)."""
import ast
import json
import re

from cardrepro import data
from cardrepro.resolve import precedence
from cardrepro.spec import parse_card
from conftest import ROOT, run_cli

OA_CARD = """# My OA model

Trained with Open-Assistant's trainer:

```bash
deepspeed trainer_sft.py --configs defaults my-run --deepspeed
```

```yaml
my-run:
  model_name: EleutherAI/pythia-1.4b
  max_length: 2048
  num_train_epochs: 2
  datasets:
    - webgpt
```

| Hyperparameter | Value |
|---|---|
| learning_rate | 2e-5 |
| num_train_epochs | 5 |
"""


def parsed(write_card, text):
    res = run_cli("parse", write_card(text), "--format", "json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def conflict(spec, path):
    return next(c for c in spec.get("conflicts", []) if c["path"] == path)


# ------------------------------------------------------------------ precedence
def test_table_value_beats_the_trainer_default_and_the_default_is_a_conflict(write_card):
    spec = parsed(write_card, OA_CARD)
    assert spec["training"]["learning_rate"] == 2e-05
    assert spec["provenance"]["training.learning_rate"] == {"origin": "card", "line": 20,
                                                            "text": "| learning_rate | 2e-5 |"}
    c = conflict(spec, "training.learning_rate")
    assert c["kind"] == "precedence"
    assert [(v["value"], v["source"], v["origin"]) for v in c["values"]] == [
        (2e-05, "table", "card"), (1e-05, "default", "default:oa-trainer-sft")]


def test_config_block_beats_table_and_the_table_value_is_recorded(write_card):
    spec = parsed(write_card, OA_CARD)
    assert spec["training"]["num_train_epochs"] == 2
    c = conflict(spec, "training.num_train_epochs")
    assert [(v["value"], v["source"], v["line"]) for v in c["values"]] == [(2, "config", 13), (5, "table", 21)]
    assert "cli > config = code > frontmatter > table = list > prose" in c["resolution"]


def test_audit_reports_each_precedence_conflict_with_its_lines(write_card):
    card = write_card(OA_CARD)
    res = run_cli("audit", card, "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    assert re.search(r"CR304 L20 +`training.learning_rate` is stated with different values: "
                     r"2e-05 \(table, line 20\) vs 1e-05 \(default:oa-trainer-sft\)", res.stdout), res.stdout
    assert re.search(r"CR304 L13,21 +`training.num_train_epochs` is stated with different values: "
                     r"2 \(config, line 13\) vs 5 \(table, line 21\)", res.stdout), res.stdout


def test_same_value_in_two_places_is_no_conflict(write_card):
    spec = parsed(write_card, "# m\nBase model: org/llama-7b\n\n- learning_rate: 2e-05\n\n"
                              "| Hyperparameter | Value |\n|---|---|\n| learning_rate | 2e-5 |\n")
    assert spec["training"]["learning_rate"] == 2e-05
    assert "conflicts" not in spec


def test_table_and_list_rank_alike_the_first_stated_wins(write_card):
    text = ("# m\nBase model: org/llama-7b\n\n- learning_rate: 3e-05\n\n"
            "| Hyperparameter | Value |\n|---|---|\n| learning_rate | 2e-5 |\n\n"
            "```yaml\nnum_train_epochs: 2\n```\n\n- num_train_epochs: 5\n")
    spec = parsed(write_card, text)
    assert spec["training"]["learning_rate"] == 3e-05
    values = conflict(spec, "training.learning_rate")["values"]
    assert [(v["value"], v["source"]) for v in values] == [(3e-05, "list"), (2e-05, "table")]
    assert spec["training"]["num_train_epochs"] == 2  # a config block outranks a later list
    values = conflict(spec, "training.num_train_epochs")["values"]
    assert [(v["value"], v["source"]) for v in values] == [(2, "config"), (5, "list")]


def test_precedence_is_stated_once_in_the_base_profile_and_inherited():
    base = data.trainer_profile("hf-trainer")
    oa = data.trainer_profile("oa-trainer-sft")
    assert base["precedence"][:2] == ["cli", ["config", "code"]] and base["precedence"][-1] == "default"
    assert "precedence" not in data.load("trainers/oa-trainer-sft")
    assert precedence(oa) == tuple(base["precedence"]) == precedence(None)


# ------------------------------------------------------------------ trainer profiles as diffs
def test_oa_profile_is_a_diff_on_training_arguments():
    raw = data.load("trainers/oa-trainer-sft")
    base = data.trainer_profile("hf-trainer")["defaults"]
    oa = data.trainer_profile("oa-trainer-sft")["defaults"]
    assert raw["base"] == "hf-trainer"
    for key, value in raw["defaults"].items():
        if key in base and value != data.INHERIT:
            assert value != base[key], f"{key}: OA states TrainingArguments' own value; mark it `inherit`"
    assert oa["adam_beta1"] == base["adam_beta1"] == 0.9 and oa["learning_rate"] == 1e-05
    assert base["learning_rate"] == 5e-05 and base["adam_beta2"] == 0.999


def test_no_trainer_defaults_in_train_code_and_no_oa_names_in_reader():
    for rel in ("cardrepro/train/config.py", "cardrepro/train/options.py"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert not re.search(r"\b(?:VAL_SPLIT_DEFAULT|TRAINING_DEFAULTS)\s*=", text), rel
        assert "1e-5" not in text, rel
    for path in (ROOT / "cardrepro" / "read").glob("*.py"):
        assert "oa-trainer" not in path.read_text(encoding="utf-8"), path


def _literal_defaults(tree):
    """(name, value, line) of every literal in a default's place: a function argument's default, a
    `.get(key, value)` / `.setdefault(key, value)` fallback, a class field or a module constant."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arguments):
            args = node.posonlyargs + node.args
            pairs = [*zip(args[len(args) - len(node.defaults):], node.defaults), *zip(node.kwonlyargs, node.kw_defaults)]
            out += [(a.arg, d.value, d.lineno) for a, d in pairs if isinstance(d, ast.Constant)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "setdefault") \
                and len(node.args) == 2 and all(isinstance(a, ast.Constant) for a in node.args):
            out.append((node.args[0].value, node.args[1].value, node.lineno))
        elif isinstance(node, (ast.Module, ast.ClassDef)):
            for st in node.body:
                target = st.target if isinstance(st, ast.AnnAssign) else st.targets[0] if isinstance(st, ast.Assign) else None
                if isinstance(target, ast.Name) and isinstance(st.value, ast.Constant):
                    out.append((target.id.lower(), st.value.value, st.lineno))
    return out


def test_no_trainer_default_is_repeated_as_a_default_in_train_code():
    defaults = {}
    for profile in data.trainer_profiles().values():
        for key, value in (profile.get("defaults") or {}).items():
            defaults.setdefault(key, []).append(value)
    copies = [f"{path.name}:{line} {key}={value!r}" for path in sorted((ROOT / "cardrepro" / "train").glob("*.py"))
              for key, value, line in _literal_defaults(ast.parse(path.read_text(encoding="utf-8")))
              if any(value == d and type(value) is type(d) for d in defaults.get(key, []))]
    assert not copies, "trainer defaults repeated in cardrepro/train/ (read them from data/trainers/): " + ", ".join(copies)


def test_the_default_scan_finds_a_copy():
    tree = ast.parse("class Loop:\n    max_length: int = 512\n"
                     "def f(cfg, dtype='fp16'):\n    return cfg.get('seed', 42)\n")
    assert {(k, v) for k, v, _ in _literal_defaults(tree)} == {("max_length", 512), ("dtype", "fp16"), ("seed", 42)}


def test_no_trainer_names_in_reader_audit_or_project_code():
    oa = data.trainer_profile("oa-trainer-sft")
    names = [oa["name"], oa["title"].split()[0], *(s.removesuffix(".py") for s in oa["scripts"])]
    pattern = re.compile("|".join(map(re.escape, names)))
    for part in ("read", "audit", "project"):
        files = list((ROOT / "cardrepro" / part).glob("*.py"))
        assert files, part
        for path in files:
            found = pattern.search(path.read_text(encoding="utf-8"))
            assert not found, f"{path.relative_to(ROOT)}: {found.group(0)}"


def test_train_config_defaults_come_from_the_profile():
    from cardrepro.train.config import training_defaults
    d = training_defaults()
    assert d["learning_rate"] == 1e-05 and d["adam_beta2"] == 0.95 and d["seed"] == 42
    assert d["eval_strategy"] == "steps" and "max_length" not in d and "dtype" not in d


# ------------------------------------------------------------------ no readable card refused
def test_card_without_training_facts_parses_to_what_it_states(write_card, tmp_path):
    card = write_card("# Hello\n\nJust a story about a cat.\n")
    spec = parsed(write_card, "# Hello\n\nJust a story about a cat.\n")
    assert set(spec) == {"name", "card", "provenance"} and spec["card"]["lines"] == 3
    audit = run_cli("audit", card, "--fail-on", "never")
    assert audit.returncode == 0 and "CR201" in audit.stdout and "CR208" in audit.stdout, audit.stdout
    build = run_cli("build", card, "-o", tmp_path / "proj")
    assert build.returncode == 2 and "Traceback" not in build.stderr
    assert len(build.stderr.strip().splitlines()) == 1 and "base_model.name" in build.stderr
    assert not (tmp_path / "proj" / "train_config.json").exists()


def test_malformed_json_block_is_a_hygiene_finding_and_the_rest_is_read(write_card):
    text = ("# card\nBase model: org/llama-7b\n```json\n{\"a\": 1,,}\n```\n\n"
            "| Hyperparameter | Value |\n|---|---|\n| learning_rate | 2e-5 |\n")
    card = write_card(text)
    spec = parsed(write_card, text)
    assert spec["base_model"]["name"] == "org/llama-7b" and spec["training"]["learning_rate"] == 2e-05
    [bad] = spec["hygiene"]["invalid_values"]
    assert bad["line"] == 4 and bad["reason"].startswith("malformed JSON")
    audit = run_cli("audit", card, "--fail-on", "never")
    assert re.search(r"CR230 L4 +card block = .* malformed JSON", audit.stdout), audit.stdout


def test_unfenced_malformed_json_is_skipped_too(write_card):
    spec = parsed(write_card, "# card\nBase model: org/llama-7b\n{\n  \"lr\": 1,,\n}\n\nTrained for 3 epochs.\n")
    assert spec["base_model"]["name"] == "org/llama-7b"
    assert [b["line"] for b in spec["hygiene"]["invalid_values"]] == [4]


def test_value_of_the_wrong_type_is_dropped_and_recorded(write_card, tmp_path):
    card = write_card("# m\nBase model: org/llama-7b\n\n```yaml\nlearning_rate: fast\nnum_train_epochs: 3\n```\n")
    spec = parse_card(card)
    assert "learning_rate" not in spec["training"] and spec["training"]["num_train_epochs"] == 3
    [bad] = spec["hygiene"]["invalid_values"]
    assert (bad["path"], bad["line"]) == ("training.learning_rate", 5)
    assert bad["reason"].startswith("the spec schema refuses it") and "fast" in bad["value"]
    assert "training.learning_rate" not in spec["provenance"]
