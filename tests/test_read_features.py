"""Each reading feature on a small snippet written for the test."""
import pytest

from cardrepro.errors import CardError
from cardrepro.read import card_shape, read_card, source, yamlish
from cardrepro.read.source import Line
from cardrepro.spec import parse_card


def lines(text):
    return [Line(i + 1, t) for i, t in enumerate(text.split("\n"))]


def test_lost_indentation_recovers_named_blocks_and_items():
    tree = yamlish.load_block(lines(
        "my-mix:\nsave_strategy: epoch\ndatasets:\n- vicuna:\nval_split: 0.05\nfraction: 0.5\n- joke\n- dolly15k:\nmax_val_set: 300"),
        card_shape())
    assert tree.value == {"my-mix": {"save_strategy": "epoch", "datasets": [
        {"vicuna": {"val_split": 0.05, "fraction": 0.5}}, "joke", {"dolly15k": {"max_val_set": 300}}]}}
    assert tree.where[("my-mix", "datasets", 1)] == 7


def test_trainer_key_after_items_closes_the_item():
    tree = yamlish.load_block(lines("cfg:\ndatasets:\n- vicuna:\nval_split: 0.1\nlearning_rate: 1e-5"), card_shape())
    assert tree.value["cfg"]["learning_rate"] == 1e-5
    assert tree.value["cfg"]["datasets"] == [{"vicuna": {"val_split": 0.1}}]


def test_yaml11_exponents_are_floats_and_duplicates_reported():
    tree = yamlish.load_block(lines("a:\n  lr: 8e-6\n  wd: 1e-5\n  lr: 2e-5"), card_shape())
    assert tree.value["a"]["wd"] == 1e-5 and isinstance(tree.value["a"]["wd"], float)
    assert tree.duplicates and tree.duplicates[0][0] == ("lr",)


def test_nested_keys_get_their_own_lines_when_names_repeat():
    tree = yamlish.load_block(lines("a:\n  lr: 1\n  wd: 2\nb:\n  lr: 3\n  wd: 4\nd:\n- x: 1\n- x: 3"), card_shape())
    assert tree.where[("b", "lr")] == 5 and tree.where[("b", "wd")] == 6  # not a's lines 2 and 3
    assert tree.where[("d", 1, "x")] == 9


def test_table_debris_is_stripped():
    raw = "|\n--- |\n|\nlanguage: |\n|\n- en |\n|\n--- |\n|\n# Title |\n|\n|\n|\nText |"
    out = source.card_lines(raw)
    assert [l.text for l in out] == ["---", "language:", "- en", "---", "# Title", "", "Text"]
    assert out[-1].no == 14


def test_a_stray_pipe_under_whole_card_debris_is_stripped_too():
    # the card's own `val_split: 0.05 |`, then a copy that put ` |` after every line
    raw = "|\n".join(f"{t} |\n" for t in ["datasets:", "- vicuna:", "val_split: 0.05 |", "max_val_set: 800"])
    assert [l.text for l in source.card_lines(raw)] == ["datasets:", "- vicuna:", "val_split: 0.05", "max_val_set: 800"]


def test_flattened_card_is_split_back():
    flat = ("--- library_name: peft --- # Title " + "x" * 400 +
            " ## Training procedure The config: - load_in_8bit: True - llm_int8_threshold: 6.0 ### Framework versions - PEFT 0.4.0")
    texts = [l.text for l in source.card_lines(flat)]
    assert texts[:3] == ["---", "library_name: peft", "---"]
    assert "- load_in_8bit: True" in texts and "- PEFT 0.4.0" in texts
    assert all(l.no == 1 for l in source.card_lines(flat))


def test_pinyin_readings_are_removed():
    assert source.card_lines("內部收集Code數(shù)據(jù)(300K)")[0].text == "內部收集Code數據(300K)"


def test_fullwidth_colon_and_chinese_labels(write_card):
    p = write_card("许可证:apache-2.0\n语言:\n示例输入:\n- 文本:\n<|prompter|>你好</s><|assistant|>\n数据集:\n- a/b\n- c/d\n\n正文\n")
    spec = parse_card(p)
    assert spec["licence"] == "apache-2.0"
    assert spec["metadata_datasets"] == ["a/b", "c/d"]
    assert spec["prompt"]["user_prefix"] == "<|prompter|>" and spec["prompt"]["user_suffix"] == "</s>"


def test_unfenced_json_with_duplicate_key(write_card):
    p = write_card("# Card\nBase model: org/llama-7b-x\nds config:\n{\n\"zero_optimization\": {\"stage\": 2},\n\"train_batch_size\": 8,\n\"train_batch_size\": 16\n}\n")
    spec = parse_card(p)
    assert spec["deepspeed"]["stage"] == 2 and spec["deepspeed"]["config"]["train_batch_size"] == 16
    dup = next(c for c in spec["conflicts"] if c["kind"] == "duplicate_key")
    assert dup["path"].endswith("train_batch_size") and dup["values"] == [{"line": 6}, {"line": 7}]


def test_python_generate_kwargs_and_prompt_concat(write_card):
    p = write_card("# Model\nBase model: meta-llama/Llama-2-7b-hf\n```python\nq = 'hi'\n"
                   "prompt = '### Human: ' + q + '\\n### Assistant:'\nout = model.generate(ids, max_new_tokens=64, top_k=40, temperature=0.7)\n```\n")
    spec = parse_card(p)
    assert spec["generation"] == {"max_new_tokens": 64, "top_k": 40, "temperature": 0.7}
    assert spec["prompt"]["user_prefix"] == "### Human: " and spec["prompt"]["assistant_prefix"] == "\n### Assistant:"
    assert spec["prompt"]["examples"][0]["text"] == "### Human: hi\n### Assistant:"


def test_hf_auto_card_list_and_table(write_card):
    p = write_card("# m\nfinetuned from: [org/pythia-1b](x)\n\nThe following hyperparameters were used during training:\n"
                   "- learning_rate: 2e-05\n- train_batch_size: 8\n- num_epochs: 3\n- seed: 42\n\n"
                   "| Hyperparameter | Value |\n|---|---|\n| Warmup_rate | 0.03 |\n| micro_batch_size | 4 |\n")
    spec = parse_card(p)
    t = spec["training"]
    assert t["learning_rate"] == 2e-5 and t["num_train_epochs"] == 3 and t["seed"] == 42
    assert t["per_device_train_batch_size"] == 8  # the list comes first; the table's 4 does not overwrite
    assert t["warmup_ratio"] == 0.03
    assert spec["base_model"]["architecture"] == "gpt_neox"


def test_shell_command_with_unknown_trainer_is_kept(write_card):
    p = write_card("# m\nBase model: org/bloom-560m\n```bash\ntorchrun --nproc_per_node 8 train.py --lr 1e-4\n```\n")
    spec = parse_card(p)
    assert spec["command"] == {"launcher": "torchrun", "script": "train.py", "args": ["--lr", "1e-4"]}
    assert spec["training"]["num_gpus"] == 8 and spec["training"]["learning_rate"] == 1e-4


def test_secret_is_redacted_everywhere(write_card):
    token = "hf_" + "a1B2c3D4e5" * 4
    p = write_card(f"# m\nBase model: org/llama-7b\nexport HF_TOKEN={token}\nlearning_rate: 1e-4\n")
    spec = parse_card(p)
    import json
    assert token not in json.dumps(spec)
    assert spec["hygiene"]["secrets"][0]["line"] == 3


def test_alias_bomb_is_refused(write_card):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(8))
    p = write_card("---\n" + bomb + "---\n# card\n")
    with pytest.raises(CardError) as err:
        read_card(p)
    assert "alias" in str(err.value)


def test_prose_base_model_against_training_config(write_card):
    p = write_card("# m\n- **Finetuned from:** [org/pythia-12b](x)\n\n"
                   "command: `deepspeed trainer_sft.py --configs defaults mine --deepspeed`\n\n"
                   "```\nmine:\nmodel_name: org/llama-7b\nlearning_rate: 2e-5\n```\n")
    spec = parse_card(p)
    assert spec["base_model"]["name"] == "org/llama-7b"
    c = next(c for c in spec["conflicts"] if c["kind"] == "prose_vs_command")
    assert [v["value"] for v in c["values"]] == ["org/pythia-12b", "org/llama-7b"] and c["values"][0]["line"] == 2
    assert spec["training"]["learning_rate"] == 2e-5 and spec["provenance"]["training.learning_rate"]["line"] == 9


def test_axolotl_config_and_hf_auto_card():
    """An Axolotl config block plus the HF Trainer's auto-generated hyperparameter list."""
    from conftest import ROOT
    spec = parse_card(ROOT / "tests" / "fixtures" / "parse" / "axolotl-qlora.md")
    t = spec["training"]
    assert spec["method"] == "qlora" and spec["base_model"]["architecture"] == "mistral"
    assert (t["max_length"], t["per_device_train_batch_size"], t["gradient_accumulation_steps"]) == (8192, 2, 4)
    assert (t["num_gpus"], t["total_train_batch_size"], t["dtype"], t["learning_rate"]) == (4, 32, "bf16", 2e-4)
    assert (t["adam_beta1"], t["adam_beta2"], t["adam_epsilon"]) == (0.9, 0.999, 1e-8)
    assert spec["peft"] == {"type": "lora", "r": 32, "lora_alpha": 16, "lora_dropout": 0.05, "target_modules": "all-linear"}
    assert spec["deepspeed"] == {"config_ref": "deepspeed_configs/zero2.json", "stage": 2}
    assert spec["provenance"]["deepspeed.stage"]["origin"] == "derived"
    assert spec["datasets"] == [{"name": "mhenrichsen/alpaca_2k_test", "options": {"type": "alpaca"}, "availability": "unknown"}]
    assert spec["environment"]["torch"] == "2.1.2+cu118"
