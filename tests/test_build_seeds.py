"""The four seed cards through the real parser and audit: each builds, its chat template reproduces
every example prompt of the card byte for byte. (That build/regen stay light is test_light_imports.py.)"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from cardrepro.project.project import build_project
from conftest import ROOT, SEEDS, hf_render


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds")
    return {name: build_project(ROOT / "cards" / f"{name}.md", out / name) for name in SEEDS}


@pytest.mark.parametrize("name", SEEDS)
def test_chat_template_reproduces_every_card_example(built, name):
    project = built[name]
    spec = json.loads((project / "spec.json").read_text(encoding="utf-8"))
    prompt = spec["prompt"]
    template = (project / "chat_template.jinja").read_text(encoding="utf-8")
    head = prompt["user_prefix"]
    tail = (prompt.get("user_suffix") or "") + prompt["assistant_prefix"]
    examples = prompt["examples"]
    assert examples
    card = (ROOT / "cards" / f"{name}.md").read_text(encoding="utf-8")
    verbatim = 0
    for ex in examples:
        text = ex["text"]
        assert text.startswith(head) and text.endswith(tail)
        message = text[len(head):len(text) - len(tail)]
        assert hf_render(template, [{"role": "user", "content": message}]) == text
        verbatim += text in card
    if name == "ziya-llama-13b-v1":       # the card builds its prompt in code: '<human>:' + query + '\n<bot>:'
        assert "inputs = '<human>:' + query.strip() + '\\n<bot>:'" in card
    else:
        assert verbatim >= 1                # at least one example appears in the card as printed


def test_ziya_gives_inference_and_public_sft_project(built):
    tc = json.loads((built["ziya-llama-13b-v1"] / "train_config.json").read_text(encoding="utf-8"))
    assert tc["method"] == "sft" and tc["card_method"] == "rlhf"
    assert tc["inference"]["model"] == "Fengshenbang/Ziya-LLaMA-13B-v1"
    assert tc["generation"]["top_p"] == 0.85 and tc["generation"]["max_new_tokens"] == 1024
    assert tc["prompt"]["user_prefix"] == "<human>:" and tc["prompt"]["assistant_prefix"] == "\n<bot>:"
    assert [d["name"] for d in tc["datasets"]] == ["belle", "alpaca", "alpaca-gpt4"]
    assert all(d["availability"] == "public" and d["sample"] for d in tc["datasets"])
    assert len(tc["left_out"]) == 4
    assert tc["deepspeed"]["assumed"] and tc["deepspeed"]["stage"] == 3
    infer = (built["ziya-llama-13b-v1"] / "infer.sh").read_text(encoding="utf-8")
    assert "DEFAULT_PROMPT='幫我寫一份去西安的旅游計劃'" in infer
    readme = (built["ziya-llama-13b-v1"] / "README.md").read_text(encoding="utf-8")
    assert "CR101" in readme and "## What was assumed" in readme


def test_seed_values(built):
    bloom = json.loads((built["bloom-zh-3b-sft"] / "train_config.json").read_text())
    assert bloom["training"]["num_train_epochs"] == 2               # CLI beats the config's 8
    assert "ikala" in [d["name"] for d in bloom["left_out"]]
    resolved = json.loads((built["bloom-zh-3b-sft"] / "deepspeed" / "ds_config.resolved.json").read_text())
    assert resolved["zero_optimization"]["stage3_prefetch_bucket_size"] == int(0.9 * 2560 ** 2)
    stablelm = built["stablelm-7b-sft"]
    assert b"/home/ubuntu" not in b"".join(p.read_bytes() for p in stablelm.rglob("*") if p.is_file())
    lora = json.loads((built["bloomz-mona-lora"] / "train_config.json").read_text())
    assert lora["peft"]["target_modules"] == ["query_key_value"] and lora["datasets"][0]["full_run"] is False


EVIL_CARD = """---
language: en
widget:
- text: <|prompter|>Say $(touch PWNED) and `touch PWNED2` or 'quote' "dq" ../../etc<|endoftext|><|assistant|>
---
# Evil card

- **Finetuned from:** [stabilityai/stablelm-base-alpha-7b](https://huggingface.co/stabilityai/stablelm-base-alpha-7b)

command: `deepspeed trainer_sft.py --configs defaults evil-cfg --output_dir '../../$(touch PWNED3)' --num_train_epochs 1 --deepspeed`

```
evil-cfg:
  model_name: stabilityai/stablelm-base-alpha-7b
  learning_rate: 1e-5
  datasets:
    - vicuna:
        val_split: 0.05
    - "../../etc/passwd":
        input_file_path: ../../../etc/shadow
```
"""


def test_crafted_card_is_confined_and_shell_safe(tmp_path, monkeypatch):
    """A real card (through the real parser) whose file name and values hold $(...), quotes, ../"""
    work = tmp_path / "work"
    (work / "cards").mkdir(parents=True)
    card = work / "cards" / "evil-$(touch PWNED)-`id`-card.md"
    card.write_text(EVIL_CARD, encoding="utf-8")
    monkeypatch.chdir(work)
    out = build_project(card)
    assert out.parent == Path("generated") and "$" not in out.name and "`" not in out.name
    out = out.resolve()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all(p == card or (work / "generated" / out.name) in p.parents for p in files)
    bin_dir, record = tmp_path / "bin", tmp_path / "argv.json"
    bin_dir.mkdir()
    fake = bin_dir / "cardrepro"
    fake.write_text(f"#!{sys.executable}\nimport json, sys\nopen({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    fake.chmod(0o755)
    for script in list(out.rglob("*.sh")) + list(out.rglob("*.sbatch")):
        subprocess.run(["bash", "-n", str(script)], check=True)
    subprocess.run(["bash", str(out / "infer.sh")], check=True, cwd=tmp_path,
                   env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)})
    argv = json.loads(record.read_text())
    assert argv[argv.index("--prompt") + 1] == "Say $(touch PWNED) and `touch PWNED2` or 'quote' \"dq\" ../../etc"
    assert not list(tmp_path.rglob("PWNED*"))
    tc = json.loads((out / "train_config.json").read_text())
    assert [d["name"] for d in tc["left_out"]] == ["../../etc/passwd"]


def test_memory_chart_matches_the_audit(built):
    """stablelm: one bar per offload variant, with and without checkpointing; the first bar's total
    is the audit's per-GPU figure (51.15 GB model states + 11.30 GB activations)."""
    import xml.etree.ElementTree as ET

    svg = (built["stablelm-7b-sft"] / "memory.svg").read_text(encoding="utf-8")
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    totals = [t for t in texts if t and t.endswith(" GB")]
    assert len(totals) == 4 and totals[0] == "62.4 GB"
    assert "ZeRO-2, no offload, with checkpointing" in texts
    assert "![Per-GPU memory estimate](memory.svg)" in (built["stablelm-7b-sft"] / "README.md").read_text()
    assert not (built["bloomz-mona-lora"] / "memory.svg").exists()  # LoRA: CR504, no ZeRO table
