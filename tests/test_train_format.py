"""Prompt rendering, the loss mask (exact trained text per seed format), infer/train prompt
identity, and --dry-run."""
import json
import shutil

import pytest

from cardrepro.train import config as config_mod  # (conftest sets HF_HUB_OFFLINE, DS_ACCELERATOR first)
from cardrepro.train import format as fmt
from cardrepro.train import infer, rows
from cardrepro.train import train as train_mod
from conftest import GENERATED, cli_in_process, copy_project, run_cli

SEEDS = ["stablelm-7b-sft", "bloom-zh-3b-sft", "ziya-llama-13b-v1", "bloomz-mona-lora"]
DIALOGUE = [{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "It is 4."},
            {"role": "user", "content": "请再说一遍"}, {"role": "assistant", "content": "答案是四。"}]
EXPECTED = {   # full rendering, and the exact text of the trained targets
    "stablelm-7b-sft": ("<|prompter|>What is 2+2?<|endoftext|><|assistant|>It is 4.<|endoftext|>"
                        "<|prompter|>请再说一遍<|endoftext|><|assistant|>答案是四。<|endoftext|>",
                        "It is 4.<|endoftext|>答案是四。<|endoftext|>"),
    "bloom-zh-3b-sft": ("<|prompter|>What is 2+2?</s><|assistant|>It is 4.</s><|prompter|>请再说一遍</s><|assistant|>答案是四。</s>",
                        "It is 4.</s>答案是四。</s>"),
    "ziya-llama-13b-v1": ("<s><human>:What is 2+2?\n<bot>:It is 4.</s><human>:请再说一遍\n<bot>:答案是四。</s>",
                          "It is 4.</s>答案是四。</s>"),
    "bloomz-mona-lora": ("human:What is 2+2?assistant:It is 4.endhuman:请再说一遍assistant:答案是四。end",
                         "It is 4.end答案是四。end"),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    """Each seed's fixture project with its smoke tokenizer (trained offline on the samples)."""
    out = {}
    for name in SEEDS:
        proj = copy_project(tmp_path_factory.mktemp("proj"), name)
        cfg, p = config_mod.load(proj)
        _, tok, _ = train_mod.prepare_data(cfg, p, "smoke", [])
        out[name] = (cfg, tok, proj)
    return out


@pytest.mark.parametrize("name", SEEDS)
def test_label_mask_exact_trained_text(projects, name):
    cfg, tok, _ = projects[name]
    r = rows.render_conv(tok, cfg, {"messages": DIALOGUE})
    full, trained = EXPECTED[name]
    assert tok.decode(r.input_ids) == full
    assert tok.decode([t for t, m in zip(r.input_ids, r.trained) if m]) == trained
    labels = fmt.labels(r)
    assert tok.decode([t for t in labels if t != fmt.IGNORE]) == trained
    assert fmt.check_assistant_trained(r) == []
    # no prompter text and no role token is ever a target
    for k, m in zip(r.seg_of, r.trained):
        if m:
            assert r.segments[k][1] == "assistant" and r.segments[k][2] in ("text", "suffix")


def test_oa_counter_rule_drops_next_prompter_token(projects):
    cfg, tok, _ = projects["stablelm-7b-sft"]
    r = rows.render_conv(tok, cfg, {"messages": DIALOGUE})
    prompter = tok.convert_tokens_to_ids("<|prompter|>")
    assert prompter in r.input_ids and not any(m for t, m in zip(r.input_ids, r.trained) if t == prompter)
    # the OA rule and the segment rule agree on these formats
    seg = fmt.render(tok, DIALOGUE, cfg["prompt"], cfg["tokenizer"]["eos_token"], masking="assistant")
    assert seg.trained == r.trained


@pytest.mark.parametrize("name", SEEDS)
def test_infer_prompt_is_training_prefix(projects, name):
    cfg, tok, _ = projects[name]
    train_ids = rows.render_conv(tok, cfg, {"messages": DIALOGUE}).input_ids
    for upto in (1, 3):     # the prompt for turn 1 and for turn 3 (with history)
        p = infer.prompt_ids(tok, cfg, DIALOGUE[:upto])
        assert train_ids[:len(p)] == p
        assert r_answer_follows(tok, cfg, train_ids, p, DIALOGUE[upto]["content"])


def r_answer_follows(tok, cfg, train_ids, p, answer):
    rest = tok.decode(train_ids[len(p):])
    return rest.startswith(answer)


def test_misconfigured_oa_mask_is_caught(projects):
    cfg, tok, _ = projects["ziya-llama-13b-v1"]
    bad = dict(cfg, masking="oa")    # OA counter rule on a format without role tokens
    r = rows.render_conv(tok, bad, {"messages": DIALOGUE})
    assert fmt.check_assistant_trained(r)


def test_dry_run_output(projects):
    _, _, proj = projects["stablelm-7b-sft"]
    r = cli_in_process("run", proj, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "<|assistant|>\u27e6" in r.stdout and "<|endoftext|>\u27e7<|prompter|>" in r.stdout
    assert "assistant text:" in r.stdout and "assistant suffix:" in r.stdout
    for ds in ("oasst_export", "vicuna", "dolly15k", "grade_school_math_instructions", "code_alpaca"):
        assert f"  {ds}: " in r.stdout
    assert "user" not in r.stdout.split("trained tokens per role:")[1].split("trained tokens per dataset:")[0]


def test_dry_run_fails_when_assistant_never_trained(projects):
    _, _, proj = projects["ziya-llama-13b-v1"]
    cfgp = proj / "train_config.json"
    cfg = json.loads(cfgp.read_text())
    cfg["masking"] = "oa"
    cfgp.write_text(json.dumps(cfg, indent=2))
    try:
        r = run_cli("run", str(proj), "--dry-run", script=True, timeout=300)   # the one line a user sees
    finally:
        shutil.copy(GENERATED / "ziya-llama-13b-v1" / "train_config.json", cfgp)
    assert r.returncode == 2
    assert "never trained" in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.strip().count("\n") == 0
