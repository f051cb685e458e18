"""Audit rules on small specs written for the test (one family per section)."""
import copy
import json
from pathlib import Path

import pytest

from cardrepro.audit import audit_report, audit_spec
from cardrepro.estimate import memory as M
from cardrepro.estimate.schedule import steps_per_epoch
from cardrepro.audit.context import model_config
from cardrepro.audit.findings import reaches

FIX = Path(__file__).parent / "fixtures" / "audit"


def codes(findings, code=None):
    return [f for f in findings if code is None or f["code"] == code]


def one(findings, code):
    got = codes(findings, code)
    assert len(got) == 1, (code, [f["code"] for f in findings])
    return got[0]


def base_spec(**over):
    spec = {
        "name": "t", "method": "sft",
        "base_model": {"name": "bigscience/bloomz-560m", "architecture": "bloom"},
        "licence": "apache-2.0",
        "prompt": {"user_prefix": "<|prompter|>", "assistant_prefix": "<|assistant|>"},
        "datasets": [{"name": "dolly15k", "options": {"val_split": 0.05}, "availability": "public"}],
        "training": {"learning_rate": 2e-5, "num_train_epochs": 2, "per_device_train_batch_size": 4,
                     "gradient_accumulation_steps": 2, "max_length": 1024, "num_gpus": 2,
                     "dtype": "fp16", "warmup_steps": 10},
        "provenance": {"training.learning_rate": {"origin": "card", "line": 5, "text": "lr"},
                       "datasets[0]": {"origin": "card", "line": 9, "text": "- dolly15k"}},
    }
    for k, v in over.items():
        spec[k] = v
    return spec


@pytest.fixture(scope="module")
def stablelm_spec():
    return json.loads((FIX / "stablelm.spec.json").read_text())


# ----------------------------------------------------------------------------- availability
def test_clean_spec_has_no_errors_or_warnings():
    f = audit_spec(base_spec())
    assert [x for x in f if x["severity"] != "info"] == []
    assert not reaches(f, "warning")


def test_internal_dataset_with_card_words():
    # the reader records the card's own note (datasets[0].availability from the card, line 5)
    spec = base_spec(datasets=[{"name": "ikala", "options": {"val_split": 0.05}, "availability": "internal"},
                               {"name": "dolly15k", "options": {"val_split": 0.05}}],
                     provenance={"datasets[0]": {"origin": "card", "line": 3, "text": "- ikala:"},
                                 "datasets[0].availability": {"origin": "card", "line": 5,
                                                              "text": "Note: ikala is an internal dataset,"}})
    f = one(audit_spec(spec), "CR101")
    assert f["severity"] == "error"
    assert f["lines"] == [3, 5]
    assert "card itself" in f["message"]
    # a name that says it is internal, on the mix's own line, is not a note of the card's
    spec["provenance"]["datasets[0].availability"]["line"] = 3
    assert "card itself" not in one(audit_spec(spec), "CR101")["message"]


def test_unpublished_export_suggests_oasst1():
    spec = base_spec(datasets=[{"name": "oasst_export", "options": {
        "lang": "en,de", "input_file_path": "2023-04-12_oasst_release_ready_synth.jsonl.gz", "val_split": 0.05}}])
    f = one(audit_spec(spec), "CR102")
    assert "OpenAssistant/oasst1" in f["action"] and "en,de" in f["action"]
    # a published export of the same loader is fine
    ok = base_spec(datasets=[{"name": "oasst_export", "options": {
        "input_file_path": "2023-04-12_oasst_ready.trees.jsonl.gz", "val_split": 0.05}}])
    assert not codes(audit_spec(ok), "CR102")


def test_local_path_and_unknown_dataset():
    spec = base_spec(datasets=[{"name": "/data/me/train.jsonl"}, {"name": "my_private_mix"}])
    f = audit_spec(spec)
    assert one(f, "CR103")["severity"] == "error"
    assert one(f, "CR105")["severity"] == "warning"


def test_licence_nc_nd_against_permissive_model():
    spec = base_spec(datasets=[{"name": "ted_trans_en-ja", "options": {"val_split": 0.05}}])
    f = one(audit_spec(spec), "CR110")
    assert "non-commercial" in f["message"] and "no derivatives" in f["message"]
    # a non-commercial model licence still conflicts with "no derivatives"
    nc = audit_spec(base_spec(licence="cc-by-nc-4.0",
                              datasets=[{"name": "alpaca", "options": {"val_split": 0.05}}]))
    assert not codes(nc, "CR110")
    unknown = audit_spec(base_spec(licence=None, datasets=[{"name": "alpaca"}]))
    assert one(unknown, "CR112")["severity"] == "warning"


def test_scraped_data_terms():
    f = one(audit_spec(base_spec(datasets=[{"name": "vicuna", "options": {"val_split": 0.05}}])), "CR111")
    assert "ShareGPT" in f["message"]


def test_trainer_ignored_options():
    spec = base_spec(trainer={"name": "oa-trainer-sft", "options": {"use_custom_sampler": False}},
                     datasets=[{"name": "ted_trans_en-ja", "options": {"max_train_set": 20000, "val_split": 0.05}},
                               {"name": "vicuna", "options": {"max_train_set": 100, "val_split": 0.05}},
                               {"name": "dolly15k", "options": {"fraction": 0.4, "val_split": 0.05}},
                               {"name": "code_alpaca", "options": {"fraction": 1.0, "val_split": 0.05}}])
    f = audit_spec(spec)
    cr120 = {x["paths"][0]: x for x in codes(f, "CR120")}
    assert cr120["datasets[0].options.max_train_set"]["severity"] == "warning"
    assert "100,000" in cr120["datasets[0].options.max_train_set"]["message"]
    assert cr120["datasets[1].options.max_train_set"]["severity"] == "error"     # TypeError
    cr121 = {x["paths"][0]: x["severity"] for x in codes(f, "CR121")}
    assert cr121 == {"datasets[2].options.fraction": "warning", "datasets[3].options.fraction": "info"}
    # with the custom sampler, fraction is honoured
    spec2 = copy.deepcopy(spec)
    spec2["trainer"]["options"]["use_custom_sampler"] = True
    assert not codes(audit_spec(spec2), "CR121")
    # another trainer: the OA rules do not apply
    spec3 = copy.deepcopy(spec)
    spec3["trainer"] = {"name": "axolotl"}
    assert not codes(audit_spec(spec3), "CR120")


def test_metadata_datasets():
    spec = base_spec(datasets=[{"name": "ted_trans_en-ja", "options": {"val_split": 0.05}},
                               {"name": "dolly15k", "options": {"val_split": 0.05}}],
                     metadata_datasets=["LIUM/tedlium", "databricks/databricks-dolly-15k", "openai/gsm8k"])
    f = audit_spec(spec)
    speech = one(f, "CR131")
    assert "speech" in speech["message"] and "ted_trans_en-ja" in speech["message"]
    missing = one(f, "CR130")
    assert "openai/gsm8k" in missing["message"]


# ----------------------------------------------------------------------------- missing facts
def test_missing_facts_report_assumed_default():
    spec = base_spec()
    del spec["training"]["learning_rate"]
    del spec["training"]["num_gpus"]
    f = audit_spec(spec)
    lr = one(f, "CR203")
    assert lr["severity"] == "warning" and lr["data"]["assumed"] == 5e-5
    assert "TrainingArguments" in lr["action"]
    assert one(f, "CR210")["data"]["assumed"] == 8          # build_defaults.yaml world_size


def test_trainer_default_is_info_with_profile():
    spec = base_spec()
    spec["provenance"]["training.learning_rate"] = {"origin": "default:oa-trainer-sft", "line": None}
    f = one(audit_spec(spec), "CR203")
    assert f["severity"] == "info" and "oa-trainer-sft" in f["message"]


def test_lora_facts_and_family_base():
    spec = base_spec(method="lora", base_model={"name": "BLOOMZ"}, peft={"type": "lora"},
                     quantization={"load_in_8bit": True})
    f = audit_spec(spec)
    for code, val in (("CR213", 8), ("CR214", 8), ("CR215", 0.0), ("CR216", ["query_key_value"])):
        assert one(f, code)["data"]["assumed"] == val
    fam = one(f, "CR202")
    assert len(fam["data"]["candidates"]) == 5
    # int8 weights of bloomz-7b1 are 8.10 GB: shown in the arithmetic
    assert any("bloomz-7b1" in d and "8.10 GB" in d for d in fam["derivation"])
    lora = one(f, "CR504")
    assert lora["data"]["trainable"] == 8 * (2048 + 3 * 2048) * 24    # bloomz-1b7 assumed


# ----------------------------------------------------------------------------- conflicts
def test_parser_conflicts():
    spec = base_spec(trainer={"name": "oa-trainer-sft"}, conflicts=[
        {"kind": "duplicate_key", "path": "training.learning_rate",
         "values": [{"value": 1e-5, "line": 3}, {"value": 2e-5, "line": 7}], "resolution": None},
        {"kind": "cli_overrides_config", "path": "num_train_epochs",
         "values": [{"value": 8, "origin": "card", "line": 77}, {"value": 2, "origin": "cli", "line": 35}],
         "resolution": "CLI wins; 2 is used"},
        {"kind": "prose_vs_command", "path": "base_model.name",
         "values": [{"value": "a", "line": 1}, {"value": "b", "line": 2}]}])
    f = audit_spec(spec)
    assert one(f, "CR301")["severity"] == "warning" and one(f, "CR301")["lines"] == [3, 7]
    assert one(f, "CR302")["severity"] == "info" and one(f, "CR302")["lines"] == [35, 77]
    assert one(f, "CR303")["severity"] == "warning"


def test_released_checkpoint_mid_schedule(stablelm_spec):
    f = one(audit_spec(stablelm_spec), "CR310")
    # lr = 1e-5 * (16000 - 12000) / (16000 - 100)
    assert f["data"]["lr_at_release"] == pytest.approx(1e-5 * 4000 / 15900)
    assert f["data"]["total_steps"] == 16000
    assert f["lines"][:2] == [110, 114]
    same = copy.deepcopy(stablelm_spec)
    same["training"]["num_train_epochs"] = 3
    assert not codes(audit_spec(same), "CR310")


def test_deepspeed_mismatch_and_save_strategy():
    spec = base_spec(deepspeed={"stage": 2, "config": {"train_micro_batch_size_per_gpu": 8,
                                                       "gradient_accumulation_steps": "auto",
                                                       "fp16": {"enabled": False}}})
    spec["training"].update(save_strategy="epoch", save_steps=500)
    f = audit_spec(spec)
    mism = codes(f, "CR322")
    assert {m["paths"][0] for m in mism} == {"deepspeed.config.train_micro_batch_size_per_gpu",
                                             "deepspeed.config.fp16.enabled"}
    assert one(f, "CR320")["severity"] == "info"


def test_prose_size_against_base_model(tmp_path):
    from cardrepro.spec import parse_card
    f = one(audit_spec(parse_card(str(FIX / "tiny-sft.md"))), "CR303")
    assert f["lines"] == [3] and "7B" in f["message"]
    ok = tmp_path / "ok.md"
    ok.write_text("# Tiny card\n\nFine-tuned from bigscience/bloomz-560m, based on a 560M-parameter model.\n")
    assert not codes(audit_spec(parse_card(str(ok))), "CR303")


# ----------------------------------------------------------------------------- derived
def test_world_size_implied(stablelm_spec):
    f = audit_spec(stablelm_spec)
    w = one(f, "CR404")
    assert w["data"]["world_size"] == 4 and w["data"]["train_rows"] == 129047
    assert w["data"]["estimate"] == pytest.approx(129047 / (4000 * 8), abs=1e-3)
    assert one(f, "CR401")["data"]["global_batch"] == 32
    assert one(f, "CR402")["data"]["steps_per_epoch"] == steps_per_epoch(129047, 4, 4, 2) == 4033
    assert one(f, "CR403")["data"]["tokens_upper_bound"] == 12000 * 32 * 4096


def test_a_val_split_that_is_not_a_number_skips_the_train_size(stablelm_spec):
    spec = copy.deepcopy(stablelm_spec)
    spec["datasets"][1]["options"]["val_split"] = "five percent"
    f = audit_spec(spec)  # found by the 6,000-variant corpus: this raised ValueError
    assert not codes(f, "CR404")
    assert "val_split 'five percent', not a number" in one(f, "CR402")["message"]


def test_stated_world_size_is_not_re_derived(stablelm_spec):
    spec = copy.deepcopy(stablelm_spec)
    spec["training"]["num_gpus"] = 8
    f = audit_spec(spec)
    assert not codes(f, "CR404")
    assert one(f, "CR401")["data"]["global_batch"] == 64
    assert not codes(f, "CR210")


# ----------------------------------------------------------------------------- cost
@pytest.mark.parametrize("name,total", [
    ("bigscience/bloomz-560m", 559_214_592), ("bigscience/bloomz-1b1", 1_065_314_304),
    ("bigscience/bloomz-1b7", 1_722_408_960), ("bigscience/bloomz-3b", 3_002_557_440),
    ("bigscience/bloomz-7b1", 7_069_016_064), ("LLaMA-13B", 13_015_864_320),
    ("ckip-joint/bloom-3b-zh", 3_002_557_440)])
def test_parameter_counts_match_published_totals(name, total):
    _, cfg = model_config(name)
    assert M.param_breakdown(cfg)["total"] == total


def test_claim_check_consistent_and_inconsistent():
    stage = {"method": "continual_pretraining", "num_gpus": 160, "gpu": "A100-40GB",
             "tokens": 110e9, "duration_days": 8, "tflops_per_gpu": 118}
    spec = base_spec(base_model={"name": "LLaMA-13B"}, stages=[stage])
    f = one(audit_spec(spec), "CR510")
    n = 13_015_864_320
    assert f["data"]["days_6nd"] == pytest.approx(6 * n * 110e9 / (160 * 118e12) / 86400)
    assert f["severity"] == "info" and "consistent" in f["message"]
    fast = copy.deepcopy(spec)
    fast["stages"][0]["duration_days"] = 3
    assert one(audit_spec(fast), "CR510")["severity"] == "warning"
    hot = copy.deepcopy(spec)
    hot["stages"][0]["tflops_per_gpu"] = 400
    assert one(audit_spec(hot), "CR511")["severity"] == "warning"


def test_memory_split_and_checkpointing():
    spec = base_spec(deepspeed={"stage": 3})
    spec["training"]["gradient_checkpointing"] = True
    f = one(audit_spec(spec), "CR502")
    rows = f["data"]["rows"]
    assert [r["offload"] for r in rows] == ["no offload", "optimizer offload", "optimizer+param offload"]
    n = 559_214_592
    assert rows[0]["optimizer"] == pytest.approx(12 * n / 2)
    assert rows[0]["weights"] == pytest.approx(2 * n / 2)
    assert rows[0]["activations_gc"] < rows[0]["activations_no_gc"]
    assert rows[2]["weights"] == 0 and rows[2]["optimizer"] == 0


# ----------------------------------------------------------------------------- hygiene
def test_secrets_and_paths_never_emitted():
    from cardrepro.audit import render
    from cardrepro.spec import parse_card
    rep = audit_report(parse_card(str(FIX / "secret-card.md")))
    f = rep["findings"]
    assert one(f, "CR601")["lines"] == [9] and one(f, "CR601")["severity"] == "error"
    assert one(f, "CR602")["lines"] == [10]
    for out in (render.text([rep]), render.to_json([rep]), render.markdown([rep])):
        assert "hf_AbCdEf" not in out and "/home/alice" not in out
        assert "<local>/train.jsonl" in out


def test_spec_values_with_paths_are_scrubbed():
    spec = base_spec(datasets=[{"name": "/home/bob/secret_set.jsonl"}])
    out = json.dumps(audit_spec(spec))
    assert "/home/bob" not in out and "<local>/secret_set.jsonl" in out


def test_strings_seen_clean_before_do_not_hide_a_path_or_a_secret():
    """The audit searches only the strings it has not seen clean: a spec audited after a clean one
    that shares most of its words still comes out scrubbed, and as scrub_obj would have it."""
    from cardrepro.audit import FAMILIES, context
    from cardrepro.audit.hygiene import scrub_findings, scrub_obj
    clean = base_spec(datasets=[{"name": "secret_set.jsonl"}])
    dirty = base_spec(datasets=[{"name": "/home/bob/secret_set.jsonl"},
                                {"name": "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"}])
    for spec in (clean, dirty, clean, dirty):
        raw = [f for fam in FAMILIES for f in fam.check(context(spec))]
        assert scrub_findings(copy.deepcopy(raw)) == scrub_obj(raw)
    out = json.dumps(audit_report(dirty))
    assert "/home/bob" not in out and "<local>/secret_set.jsonl" in out
    assert "hf_AbCd" not in out and "[REDACTED:huggingface_token]" in out
    assert audit_report(clean) == audit_report(copy.deepcopy(clean))


def test_a_finding_shows_every_control_character_escaped():
    from cardrepro.audit.findings import finding
    from cardrepro.printable import CONTROL_RE
    controls = "".join(c for c in map(chr, range(0x3000)) if CONTROL_RE.match(c))
    f = finding("CR230", "error", f"value{controls}end", action=f"\u00e9\u2028{controls}", basis=[f"card{controls}"],
                derivation=[controls], paths=[controls], data={controls: [controls]})
    shown = [f["message"], f["action"], *f["basis"], *f["derivation"], *f["paths"], *f["data"], *f["data"].popitem()[1]]
    assert not any(CONTROL_RE.search(s) for s in shown)
    assert all("\\x1b" in s and "\\x9b" in s and "\\x7f" in s for s in shown)


def test_score_and_verdict():
    good = audit_report(base_spec())
    bad = audit_report(base_spec(datasets=[{"name": "ikala", "availability": "internal"}]))
    assert good["score"]["score"] > bad["score"]["score"]
    assert bad["verdict"].startswith("not reproducible")
    assert good["verdict"].startswith("reproducible")


def test_later_stage_starts_from_unreleased_checkpoint():
    spec = base_spec(base_model={"name": "LLaMA-13B", "architecture": "llama"},
                     stages=[{"method": "continual_pretraining"}, {"method": "sft"}],
                     tokenizer={"vocab_size": 39410}, model={"hub_id": "org/final"})
    f = one(audit_spec(spec), "CR140")
    assert f["severity"] == "warning" and "stage 2 (sft)" in f["message"] and "org/final" in f["message"]
    assert "39,410" in f["message"] and "32,000" in f["message"]
    assert not codes(audit_spec(base_spec(stages=[{"method": "sft"}])), "CR140")


def test_dotted_paths_read_lists_dicts_and_defaults():
    from cardrepro.paths import get
    spec = {"datasets": [{"name": "a", "options": {"val_split": 0.0, "lang": None}}], "d": {"0": "key"}, "l": "text"}
    assert get(spec, "datasets[0].options.val_split") == 0.0
    assert get(spec, "datasets[0].options.lang", "x") == "x"          # None is missing
    assert get(spec, "datasets[1].name", "x") == "x" and get(spec, "datasets.name") is None
    assert get(spec, "d.0") == "key" and get(spec, "d[0]") is None     # a key "0" is not an index
    assert get(spec, "l[0]") is None and get(spec, "l.x") is None
    assert get(spec, "datasets[0]") is spec["datasets"][0]
