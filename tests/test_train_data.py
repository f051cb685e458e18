"""Registry, loaders on their sample files, per-dataset options, config errors (no torch needed)."""
import json

import pytest

from cardrepro.train import config as config_mod
from cardrepro.train import data as data_mod
from cardrepro.train import loaders, options, registry
from conftest import GENERATED, copy_project, run_cli

SEED_NAMES = ["oasst_export", "vicuna", "dolly15k", "grade_school_math_instructions", "code_alpaca", "wmt2019_zh-en",
              "ted_trans_en-ja", "ted_trans_zh-ja", "ikala", "joke", "gsm8k", "webgpt", "OpenAssistant/oasst1",
              "databricks/databricks-dolly-15k", "anon8231489123/ShareGPT_Vicuna_unfiltered", "LIUM/tedlium",
              "theblackcat102/joke_explaination", "BELLE", "alpaca", "alpaca-gpt4", "mona_gpt4_roles"]


def records(name):
    return data_mod.read_jsonl(registry.SAMPLES / registry.lookup(name)["sample"])


@pytest.mark.parametrize("name", SEED_NAMES)
def test_registry_has_every_seed_dataset(name):
    e = registry.lookup(name)
    assert e is not None, name
    for key in ("licence", "availability", "kind", "format", "substitute", "hub_id"):
        assert key in e, (name, key)
    assert e["availability"] in ("public", "internal", "unreleased", "unknown")
    if e["sample"]:
        n = len(records(name))
        assert 30 <= n <= 60, (name, n)
        assert e["format"] in loaders.LOADERS


def test_registry_facts():
    assert registry.lookup("oasst_export")["availability"] == "unreleased"
    assert registry.lookup("oasst_export")["substitute"] == "OpenAssistant/oasst1"
    assert registry.lookup("ikala")["availability"] == "internal"
    assert registry.lookup("LIUM/tedlium")["kind"] == "speech"
    assert registry.lookup("ted_trans_zh-ja")["licence"] == "cc-by-nc-nd-4.0"
    assert registry.lookup("mona_gpt4_roles")["availability"] == "unreleased"
    assert registry.lookup("OpenAssistant/oasst1")["key"] == "oasst1"


def test_oasst_tree_loader_filters_and_threads():
    recs = records("oasst_export")
    en = loaders.oasst_tree(recs, {"lang": "en"})
    multi = loaders.oasst_tree(recs, {"lang": "en,zh,ja,de"})
    assert 0 < len(en) < len(multi)
    texts = {m["content"] for c in multi for m in c["messages"]}
    assert "spam spam spam" not in texts                                        # deleted
    assert "As an AI language model, I cannot answer that." not in texts        # synthetic
    for c in multi:
        roles = [m["role"] for m in c["messages"]]
        assert roles[-1] == "assistant" and roles[::2] == ["user"] * len(roles[::2])
    bad = {recs[i]["prompt"]["text"] for i in (5, 6, 7)}                        # aborted / review false / growing
    assert not any(c["messages"][0]["content"] in bad for c in multi)
    assert any(len(c["messages"]) == 4 for c in en)                            # a follow-up thread
    assert len(loaders.oasst_tree(recs, {"lang": "en", "top_k": 1})) < len(en)  # rank filter


def test_sharegpt_loader():
    out = loaders.sharegpt(records("vicuna"), {})
    assert len(out) == 38                                       # one empty, one opening with gpt
    joined = [c for c in out if c["group"] == "sg_01012"][0]
    assert "\nPlease answer briefly." in joined["messages"][0]["content"]
    assert not any("\\_" in m["content"] for c in out for m in c["messages"])


def test_instruction_loaders():
    dolly = loaders.instruction_response(records("dolly15k"), {})
    assert len(dolly) == 40
    rec = records("dolly15k")[1]
    assert rec["METADATA"]["CONTEXT"].endswith("[citation needed]")
    q = dolly[1]["messages"][0]["content"]
    assert q == "The Moon is Earth's only natural satellite. It orbits at an average distance of 384,400 km. " + rec["INSTRUCTION"]
    assert len(loaders.instruction_response(records("grade_school_math_instructions"), {})) == 40
    code = loaders.instruction_input_output(records("code_alpaca"), {"drop_openai": True})
    assert len(code) == 36 and not any("openai" in m["content"].lower() for c in code for m in c["messages"])
    rev = [c for c in code if c["messages"][0]["content"].startswith("Reverse the given string.")][0]
    assert rev["messages"][0]["content"] == "Reverse the given string.\nhello"
    for name in ("alpaca", "alpaca-gpt4", "BELLE"):
        assert len(loaders.instruction_input_output(records(name), {})) == 40


def test_translation_loader_direction_templates_and_mixing():
    recs = records("wmt2019_zh-en")
    out = loaders.translation(recs, {"languages": ["zh", "en"]})
    assert len(out) == len(recs)
    firsts = [c["messages"][0]["content"] for c in out]
    assert any("English" in f for f in firsts) and any("中文" in f for f in firsts)   # both directions
    mixed = [c for c in out if len(c["messages"]) == 4]
    assert mixed, "the intended pair mixing (previous pair as an earlier turn) never happened"
    i = out.index(mixed[0])
    assert mixed[0]["messages"][:2] == [dict(m) for m in out[i - 1]["messages"][-2:]]
    assert all(len(c["messages"]) == 2 for c in loaders.translation(recs, {"languages": ["zh", "en"], "mix": False}))
    ja = loaders.translation(records("ted_trans_en-ja"), {"languages": ["en", "ja"]})
    assert any("日本語" in c["messages"][-2]["content"] for c in ja)


def test_small_format_loaders():
    assert len(loaders.joke_explanation(records("joke"), {})) == 30
    gsm = loaders.question_answer(records("gsm8k"), {})
    assert len(gsm) == 40 and "####" in gsm[0]["messages"][1]["content"]
    web = loaders.webgpt_comparisons(records("webgpt"), {})
    assert len(web) == len({r["question"]["full_text"] for r in records("webgpt")})
    assert not any("[1]" in c["messages"][1]["content"] for c in web)
    mona = loaders.text_dialogue(records("mona_gpt4_roles"), {})
    assert len(mona) == 40
    q, a = (m["content"] for m in mona[0]["messages"])
    assert q.startswith("今天天气:") and "提示我去做" in q and not a.endswith("end")


def test_options_split():
    convs = loaders.oasst_tree(records("oasst_export"), {"lang": "en,zh,ja,de"})
    notes = []
    train, val = options.split(convs, {}, "oasst_tree", notes, "oasst_export", False)
    assert not {c["group"] for c in train} & {c["group"] for c in val}      # tree-level split
    n_groups = len({c["group"] for c in convs})
    assert len({c["group"] for c in val}) == round(n_groups * 0.2)         # OA default val_split 0.2
    flat = [{"messages": [], "group": i} for i in range(100)]
    tr, va = options.split(flat, {"val_split": 0.05}, "sharegpt", notes, "x", False)
    assert (len(tr), len(va)) == (95, 5)
    tr, va = options.split(flat, {"val_split": 0.3, "max_val_set": 7, "max_train_set": 20}, "translation", notes, "y", False)
    assert (len(tr), len(va)) == (20, 7) and len({c["group"] for c in va}) == 7
    tr, _ = options.split(flat, {"fraction": 0.5}, "sharegpt", notes, "z", False)
    assert len(tr) == 80 and any("fraction 0.5 ignored" in n for n in notes)
    tr, _ = options.split(flat, {"fraction": 0.5}, "sharegpt", notes, "z", True)
    assert len(tr) == 40


def test_internal_dataset_left_out(tmp_path):
    proj = copy_project(tmp_path, "bloom-zh-3b-sft")
    cfg = json.loads((proj / "train_config.json").read_text())
    cfg["datasets"].append({"name": "ikala", "options": {"val_split": 0.05}})
    (proj / "train_config.json").write_text(json.dumps(cfg, indent=2))
    c, p = config_mod.load(proj)
    notes = []
    data = data_mod.build(c, p, "smoke", notes)
    assert "ikala" not in data and any("ikala" in n and "internal" in n for n in notes)
    assert len(data) == 8


def test_bad_input_one_line_exit_2(tmp_path):
    r = run_cli("run", str(tmp_path / "missing"), script=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith(str(tmp_path / "missing") + ":0:")
    (tmp_path / "p").mkdir()
    r = run_cli("run", str(tmp_path / "p"), script=True)
    assert r.returncode == 2 and "train_config.json not found" in r.stderr
    (tmp_path / "p" / "train_config.json").write_text('{\n  "name": "x",\n  "architecture": \n}\n')
    r = run_cli("run", str(tmp_path / "p"), "--dry-run", script=True)
    assert r.returncode == 2 and r.stderr.startswith(str(tmp_path / "p" / "train_config.json") + ":4: invalid JSON")
    assert "Traceback" not in r.stderr
    cfg = json.loads((GENERATED / "ziya-llama-13b-v1" / "train_config.json").read_text())
    cfg["architecture"] = "t5"
    (tmp_path / "p" / "train_config.json").write_text(json.dumps(cfg, indent=2))
    r = run_cli("infer", str(tmp_path / "p"), "--prompt", "hi", script=True)
    line = next(i for i, l in enumerate(json.dumps(cfg, indent=2).splitlines(), 1) if '"architecture"' in l)
    assert r.returncode == 2 and f":{line}: architecture 't5' is not supported" in r.stderr

