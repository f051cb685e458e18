"""The four seed cards: golden specs, and the values that matter checked by reading the card."""
import json

import pytest

from cardrepro.spec import parse_card
from cardrepro.validate import errors
from conftest import CARDS, ROOT, SEEDS, run_cli


@pytest.fixture(scope="module")
def specs():
    return {name: parse_card(f"cards/{name}.md") for name in SEEDS}


@pytest.mark.parametrize("name", SEEDS)
def test_golden(specs, name):
    golden = json.loads((ROOT / "tests" / "golden" / f"{name}.spec.json").read_text(encoding="utf-8"))
    assert json.loads(json.dumps(specs[name])) == golden


@pytest.mark.parametrize("name", SEEDS)
def test_cli_json_validates(name):
    res = run_cli("parse", f"cards/{name}.md", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert errors(json.loads(res.stdout)) == []


def test_cards_are_byte_copies_of_shared():
    shared = ROOT.parent / "shared" / "cards"
    if not shared.exists():
        pytest.skip("shared/ not beside this checkout")
    for name in SEEDS:
        assert (CARDS / f"{name}.md").read_bytes() == (shared / f"{name}.md").read_bytes()


def test_stablelm(specs):
    s = specs["stablelm-7b-sft"]
    p = s["provenance"]
    assert s["base_model"] == {"name": "stabilityai/stablelm-base-alpha-7b", "architecture": "gpt_neox"}
    # no learning rate in the card: the OA trainer's default, marked as such
    assert s["training"]["learning_rate"] == 1e-5
    assert p["training.learning_rate"]["origin"] == "default:oa-trainer-sft"
    assert s["training"]["max_length"] == 4096 and p["training.max_length"]["origin"] == "card"
    assert s["training"]["num_train_epochs"] == 4 and p["training.num_train_epochs"]["origin"] == "cli"
    assert s["training"]["per_device_train_batch_size"] == 4
    assert s["training"]["gradient_accumulation_steps"] == 2
    assert s["training"]["save_strategy"] == "epoch"  # oasst-mix is applied after stablelm-7b
    assert "num_gpus" not in s["training"]  # the card never says
    assert s["prompt"]["user_prefix"] == "<|prompter|>"
    assert s["prompt"]["user_suffix"] == "<|endoftext|>"
    assert s["prompt"]["assistant_prefix"] == "<|assistant|>"
    assert s["prompt"]["assistant_suffix"] == "<|endoftext|>"
    assert [d["name"] for d in s["datasets"]] == ["oasst_export", "vicuna", "dolly15k",
                                                   "grade_school_math_instructions", "code_alpaca"]
    assert s["datasets"][0]["options"]["val_split"] == 0.2
    assert p["datasets[0].options.val_split"]["origin"] == "default:oa-trainer-sft"
    assert s["datasets"][1]["options"] == {"val_split": 0.05, "max_val_set": 800, "fraction": 1.0}
    assert s["deepspeed"]["stage"] == 2 and s["deepspeed"]["config"]["zero_optimization"]["allgather_bucket_size"] == 1e9
    assert s["deepspeed"]["config"]["optimizer"]["params"]["lr"] == "auto"
    assert s["model"]["released"] == {"checkpoint": "3 epochs (12000 steps)", "epochs": 3, "steps": 12000}
    assert s["trainer"]["configs"] == ["defaults", "stablelm-7b", "oasst-mix"]
    assert s["trainer"]["options"]["use_flash_attention"] is True
    # the absolute machine path is never emitted as-is
    assert "/home/ubuntu" not in json.dumps(s)
    assert s["hygiene"]["absolute_paths"] == [{"line": 114, "path": "<local>/data_cache"}]


def test_bloom_zh(specs):
    s = specs["bloom-zh-3b-sft"]
    p = s["provenance"]
    assert s["training"]["num_train_epochs"] == 2  # --num_train_epochs 2 beats the config's 8
    assert p["training.num_train_epochs"]["origin"] == "cli"
    conflict = next(c for c in s["conflicts"] if c["path"] == "num_train_epochs")
    assert [v["value"] for v in conflict["values"]] == [8, 2]
    assert s["training"]["learning_rate"] == 8e-6 and isinstance(s["training"]["learning_rate"], float)
    assert s["training"]["max_length"] == 5120 and s["training"]["gradient_accumulation_steps"] == 32
    assert s["base_model"] == {"name": "ckip-joint/bloom-3b-zh", "architecture": "bloom"}
    assert s["prompt"]["user_suffix"] == "</s>" and s["prompt"]["assistant_suffix"] == "</s>"
    names = [d["name"] for d in s["datasets"]]
    assert names == ["wmt2019_zh-en", "ted_trans_en-ja", "ted_trans_zh-ja", "ikala", "dolly15k",
                     "oasst_export", "joke", "gsm8k", "webgpt"]
    ikala = s["datasets"][3]
    assert ikala["availability"] == "internal"
    assert p["datasets[3].availability"]["origin"] == "card" and "ikala" in p["datasets[3].availability"]["text"]
    assert s["datasets"][0]["options"]["max_train_set"] == 20000
    assert s["deepspeed"]["stage"] == 3 and s["deepspeed"]["config_ref"] == "configs/zero3_config_sft.json"
    assert "LIUM/tedlium" in s["metadata_datasets"]
    assert s["licence"] == "bigscience-openrail-m"


def test_bloomz_mona(specs):
    s = specs["bloomz-mona-lora"]
    assert s["method"] == "lora"
    assert s["base_model"] == {"name": "BLOOMZ", "architecture": "bloom"}
    assert s["peft"] == {"type": "lora"}  # r, alpha, dropout, targets: not in the card
    q = s["quantization"]
    assert q["method"] == "bitsandbytes" and q["load_in_8bit"] is True
    assert not [k for k in q if k.startswith("bnb_4bit")]  # an 8-bit run drops the 4-bit fields
    assert s["environment"] == {"peft": "0.4.0"}
    assert s["prompt"]["user_prefix"] == "human:" and s["prompt"]["assistant_prefix"] == "assistant:"
    assert s["prompt"]["user_suffix"] is None and s["prompt"]["assistant_suffix"] == "end"
    assert s["training"]["num_gpus"] == 1  # "在一张A100内训练Lora模型"
    assert s["card"]["lines"] == 1


def test_ziya(specs):
    s = specs["ziya-llama-13b-v1"]
    assert s["method"] == "rlhf"
    assert [st["method"] for st in s["stages"]] == ["continual_pretraining", "sft", "rlhf"]
    pt = s["stages"][0]
    assert (pt["num_gpus"], pt["gpu"], pt["dtype"], pt["tokens"], pt["duration_days"], pt["tflops_per_gpu"]) == \
        (160, "A100-40GB", "fp16", 110_000_000_000, 8, 118)
    assert s["stages"][2]["algorithms"] == ["rm", "ppo"]
    assert s["tokenizer"]["vocab_size"] == 39410
    assert s["prompt"]["user_prefix"] == "<human>:" and s["prompt"]["assistant_prefix"] == "\n<bot>:"
    assert s["prompt"]["user_suffix"] is None
    assert s["provenance"]["prompt.assistant_suffix"]["origin"] == "derived"
    g = s["generation"]
    assert g == {"max_new_tokens": 1024, "do_sample": True, "top_p": 0.85, "temperature": 1.0,
                 "repetition_penalty": 1.0, "eos_token_id": 2, "bos_token_id": 1, "pad_token_id": 0}
    av = {d["name"]: d["availability"] for d in s["datasets"]}
    assert av["BELLE"] == "public" and av["Alpaca-GPT4"] == "public"
    assert av["內部收集Code數據"] == "internal" and av["內部收集推理/邏輯相關數據"] == "internal"
    assert "training" not in s or "learning_rate" not in s["training"]  # never stated: absent


@pytest.mark.parametrize("name", SEEDS)
def test_every_value_is_traceable(specs, name):
    """Each leaf of the spec has provenance, on its own path or on the nearest path above it."""
    from cardrepro.project.diff import flatten
    s = specs[name]
    prov = s["provenance"]
    body = {k: v for k, v in s.items() if k not in ("provenance", "card", "name", "conflicts", "hygiene")}
    untraced = []
    for path in flatten(body):
        p = path
        while p and p not in prov:
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        if not p:
            untraced.append(path)
        else:
            rec = prov[p]
            assert rec["origin"] in ("card", "cli", "derived") or rec["origin"].startswith("default:"), rec
            assert rec["line"] or rec["origin"] != "card", (path, rec)  # a card value names its line
            assert rec.get("rule") or rec["origin"] != "derived", (path, rec)  # a derivation names its rule
    assert untraced == []
