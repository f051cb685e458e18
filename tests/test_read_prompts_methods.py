"""Prompt formats and training methods as real cards state them. Each card below is built around
one line quoted from a real card (named in a comment); the spec must render that format exactly,
spaces and newlines included, and name the method the card states."""
import json
from pathlib import Path

import pytest

from cardrepro.project.chat_template import chat_template
from cardrepro.spec import parse_card
from conftest import ROOT, hf_render, run_cli

REAL = ROOT.parent / "shared" / "realcards" / "cards"


def render(spec):
    p = spec["prompt"]
    return p["user_prefix"] + "Q" + (p.get("user_suffix") or "") + p["assistant_prefix"]


def parse(write_card, text):
    return parse_card(str(write_card(text)))


FENCE = "```"

# (card text, expected render, other prompt fields expected)
PROMPT_CASES = {
    # timdettmers/guanaco-65b: an f-string with a preamble; the spaces around the message are kept
    "f-string": (
        f'{FENCE}python\nprompt = "Introduce yourself"\nformatted_prompt = (\n'
        '    f"A chat between a curious human and an artificial intelligence assistant."\n'
        '    f"### Human: {prompt} ### Assistant:"\n)\n' + FENCE + "\n",
        "### Human: Q ### Assistant:", {}),
    # timdettmers/guanaco-65b: the same format in a prose example, answer on the same line
    "prose example": (
        "### Human: Introduce yourself ### Assistant: I am an artificial intelligence assistant.\n",
        "### Human: Q ### Assistant:", {}),
    # CarperAI/stable-vicuna-13b-delta: a triple-quoted example with line continuations
    "code example": (
        f'{FENCE}python\nprompt = """\\\n### Human: Write a Python script for text classification\n'
        '### Assistant:\\\n"""\n' + FENCE + "\n",
        "### Human: Q\n### Assistant:", {}),
    # HuggingFaceH4/starchat-beta: a `.format` template with a system turn
    "format template": (
        f'{FENCE}python\nprompt_template = "<|system|>\\n<|end|>\\n<|user|>\\n{{query}}<|end|>\\n<|assistant|>"\n'
        + FENCE + "\n",
        "<|user|>\nQ<|end|>\n<|assistant|>",
        {"user_suffix": "<|end|>\n", "system_prefix": "<|system|>\n", "system_suffix": "<|end|>\n"}),
    # IDEA-CCNL/Ziya-LLaMA-7B-Reward: `text = prefix_user+query+prefix_bot+response`
    "bound names": (
        f'{FENCE}python\nprefix_user = "Human:"\nprefix_bot = "\\n\\nAssistant:"\nquery = "列举一种空气污染。"\n'
        'response = "一种常见的空气污染源"\ntext = prefix_user+query+prefix_bot+response\n' + FENCE + "\n",
        "Human:Q\n\nAssistant:", {}),
    # HuggingFaceH4/zephyr-7b-beta: the rendered chat template printed as comments
    "comment transcript": (
        f"{FENCE}python\nprint(outputs[0]['generated_text'])\n# <|system|>\n"
        "# You are a friendly chatbot who always responds in the style of a pirate.</s>\n# <|user|>\n"
        "# How many helicopters can a human eat in one sitting?</s>\n# <|assistant|>\n"
        "# Ah, me hearty matey!\n" + FENCE + "\n",
        "<|user|>\nQ</s>\n<|assistant|>\n", {"system_prefix": "<|system|>\n", "system_suffix": "</s>\n"}),
    # teknium/OpenHermes-2.5-Mistral-7B: a ChatML transcript in a fenced block
    "chatml transcript": (
        f"{FENCE}\n<|im_start|>system\nYou are \"Hermes 2\".<|im_end|>\n<|im_start|>user\nHello, who are you?<|im_end|>\n"
        "<|im_start|>assistant\nHi there! My name is Hermes 2.<|im_end|>\n" + FENCE + "\n",
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        {"system_prefix": "<|im_start|>system\n", "assistant_suffix": "<|im_end|>"}),
    # fnlp/moss-moon-003-sft: a >>> session; the answers the card shows end with <eom>
    "doctest session": (
        f'{FENCE}python\n>>> query = meta_instruction + "<|Human|>: Hi there<eoh>\\n<|MOSS|>:"\n'
        f">>> inputs = tokenizer(query)\n{FENCE}\n\n{FENCE}\n<|Human|>: ...<eoh>\n<|MOSS|>: ...<eom>\n{FENCE}\n",
        "<|Human|>: Q<eoh>\n<|MOSS|>:", {"assistant_suffix": "<eom>"}),
    # an Axolotl config (FinLoRA card): a dataset format beats `chat_template: llama3`
    "axolotl format": (
        f"{FENCE}yaml\nbase_model: meta-llama/Llama-3.1-8B-Instruct\ndatasets:\n- path: data/train.jsonl\n"
        "  type:\n    field_instruction: context\n    format: '[INST] {instruction} [/INST]'\n"
        "chat_template: llama3\n" + FENCE + "\n",
        "[INST] Q [/INST]", {}),
    # Doctor-Shotgun/... Axolotl cards: `chat_template: chatml` names the format
    "named by axolotl": (
        f"{FENCE}yaml\nbase_model: mistralai/Mistral-7B-v0.1\nchat_template: chatml\n{FENCE}\n",
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n",
        {"system_prefix": "<|im_start|>system\n", "assistant_suffix": "<|im_end|>"}),
    # shenzhi-wang/Llama3-8B-Chinese-Chat: `--template llama3` in a LLaMA-Factory command
    "named by llama-factory": (
        f"{FENCE}bash\ndeepspeed --num_gpus 8 src/train_bash.py \\\n    --stage orpo \\\n"
        "    --model_name_or_path meta-llama/Meta-Llama-3-8B-Instruct \\\n    --template llama3 \\\n"
        f"    --finetuning_type full\n{FENCE}\n",
        "<|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
        {"assistant_suffix": "<|eot_id|>"}),
    # teknium/OpenHermes-2.5-Mistral-7B: "OpenHermes 2.5 now uses ChatML as the prompt format"
    "named in prose": (
        "OpenHermes 2.5 now uses ChatML as the prompt format, opening up a much more structured system.\n",
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n", {}),
    # TheBloke GGUF cards: a fenced template with slots for the system message and the prompt
    "slots for system and prompt": (
        f"Prompt template: ChatML\n\n{FENCE}\n<|im_start|>system\n{{system_message}}<|im_end|>\n<|im_start|>user\n"
        f"{{prompt}}<|im_end|>\n<|im_start|>assistant\n{FENCE}\n",
        "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n", {"system_suffix": "<|im_end|>\n"}),
}


@pytest.mark.parametrize("case", PROMPT_CASES)
def test_prompt_formats_render_exactly(write_card, case):
    text, want, fields = PROMPT_CASES[case]
    spec = parse(write_card, text)
    assert render(spec) == want
    for key, value in fields.items():
        assert spec["prompt"][key] == value, key
    assert spec["provenance"]["prompt.user_prefix"]["line"] is not None


def test_unknown_template_name_and_negated_text_state_nothing(write_card):
    # LLaMA-Factory's `--template default` is not a row of data/chat_templates.yaml: no guess
    spec_text = (f"{FENCE}bash\npython src/cli_demo.py --template default --model_name_or_path hiyouga/baichuan-7b-sft\n"
                 f"{FENCE}\n\nbase_model: baichuan-inc/baichuan-7B\n")
    spec = parse(write_card, spec_text)
    assert "prompt" not in spec or "user_prefix" not in spec["prompt"]


def test_folded_yaml_template_is_not_taken_for_the_fenced_one(write_card):
    # TheBloke cards: `prompt_template:` folded over lines in the front matter loses its newlines;
    # the fenced template further down says them exactly
    card = ("---\nbase_model: cognitivecomputations/dolphin-2.1-mistral-7b\nprompt_template: '<|im_start|>system\n\n"
            "  {system_message}<|im_end|>\n\n  <|im_start|>user\n\n  {prompt}<|im_end|>\n\n  <|im_start|>assistant\n\n  '\n"
            "---\n# Dolphin\n\n" + PROMPT_CASES["slots for system and prompt"][0])
    spec = parse(write_card, card)
    assert render(spec) == "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"


# (card text, expected method)
METHOD_CASES = {
    # HuggingFaceH4/zephyr-7b-beta
    "dpo in prose": ("Zephyr-7B-β is a fine-tuned version of [mistralai/Mistral-7B-v0.1](https://huggingface.co/"
                     "mistralai/Mistral-7B-v0.1) that was trained on on a mix of publicly available, synthetic "
                     "datasets using [Direct Preference Optimization (DPO)](https://arxiv.org/abs/2305.18290).\n", "dpo"),
    # mlabonne/NeuralHermes-2.5-Mistral-7B: DPO with LoRA adapters is dpo (the last stage names it)
    "dpo over lora": ("NeuralHermes is based on the teknium/OpenHermes-2.5-Mistral-7B model that has been further "
                      "fine-tuned with Direct Preference Optimization (DPO) using the mlabonne/chatml_dpo_pairs dataset.\n"
                      f"{FENCE}python\npeft_config = LoraConfig(r=16, lora_alpha=16, lora_dropout=0.05)\n{FENCE}\n", "dpo"),
    # shenzhi-wang/Llama3-8B-Chinese-Chat: LLaMA-Factory `--stage orpo`
    "orpo option": (f"{FENCE}bash\ndeepspeed --num_gpus 8 src/train_bash.py \\\n    --stage orpo \\\n"
                    f"    --finetuning_type full\n{FENCE}\n", "orpo"),
    # princeton-nlp/gemma-2-9b-it-SimPO
    "simpo": ("This model was trained with SimPO on princeton-nlp/gemma2-ultrafeedback-armorm.\n", "simpo"),
    # ContextualAI/archangel_kto_pythia1-4b (KTO models): "trained with KTO"
    "kto": ("This model was trained with KTO on the Anthropic HH dataset.\n", "kto"),
    # CarperAI/stable-vicuna-13b-delta
    "rlhf": ("StableVicuna-13B is a Vicuna-13B v0 model fine-tuned using reinforcement learning from human "
             "feedback (RLHF) via Proximal Policy Optimization (PPO) on various conversational datasets.\n", "rlhf"),
    # berkeley-nest/Starling-RM-7B-alpha
    "reward model": ("Starling-RM-7B-alpha is a reward model trained from Llama2-7B-Chat.\n", "reward_model"),
    # IDEA-CCNL/Ziya-LLaMA-7B-Reward: the title names it
    "reward title": ("# Ziya-LLaMA-7B-Reward\n\nZiya-LLaMA-7B-Reward is based on the Ziya-LLaMA model, trained on "
                     "the following preference ranking data.\n", "reward_model"),
    # timdettmers/guanaco-65b
    "qlora in prose": ("The Guanaco models are open-source finetuned chatbots obtained through 4-bit QLoRA tuning "
                       "of LLaMA base models on the OASST1 dataset.\n", "qlora"),
    # hiyouga/baichuan-7b-sft: `--stage sft --finetuning_type lora`
    "lora option": (f"{FENCE}bash\npython src/train_bash.py \\\n    --stage sft \\\n    --finetuning_type lora \\\n"
                    f"    --lora_rank 16\n{FENCE}\n", "lora"),
    # fnlp/moss-moon-003-sft
    "sft in prose": ("- moss-moon-003-sft: We performed supervised fine-tuning on ~1.1M multi-turn conversational "
                     "data.\n", "sft"),
    # lvwerra/distilbert-imdb (a Trainer auto-card)
    "fine-tuned version": ("This model is a fine-tuned version of [distilbert-base-uncased](https://huggingface.co/"
                           "distilbert-base-uncased) on the imdb dataset.\n", "sft"),
    # Qwen/Qwen1.5-72B-Chat: SFT then DPO, the later stage names the model's method
    "later stage wins": ("We pretrained the models with a large amount of data, and we post-trained the models with "
                         "both supervised finetuning and direct preference optimization.\n", "dpo"),
}


@pytest.mark.parametrize("case", METHOD_CASES)
def test_methods_as_cards_state_them(write_card, case):
    text, want = METHOD_CASES[case]
    spec = parse(write_card, "base_model: some-org/some-base\n\n" + text)
    assert spec["method"] == want
    prov = spec["provenance"]["method"]
    assert prov["line"] is not None and prov["text"]


NO_METHOD = {
    # HuggingFaceH4/starchat-beta
    "negated": "StarChat-β has not been aligned to human preferences with techniques like RLHF or deployed with "
               "in-the-loop filtering of responses like ChatGPT.\n",
    # BAAI/bge-base-en
    "modal": "The model can not be directly used to calculate similarity, and it must be fine-tuned with "
             "contrastive learning before computing similarity.\n",
    # berkeley-nest/Starling-LM-7B-alpha-like mention of another model's reward model
    "a reward model used": "The reward model used during RLHF was also trained on OASST1.\n",
}


@pytest.mark.parametrize("case", NO_METHOD)
def test_sentences_that_state_no_method(write_card, case):
    spec = parse(write_card, "base_model: some-org/some-base\n\n" + NO_METHOD[case])
    assert "method" not in spec


@pytest.mark.skipif(not REAL.is_dir(), reason="the shared real cards are not in this checkout")
@pytest.mark.parametrize("card, method, want", [
    ("zephyr-7b-beta.md", "dpo", "<|user|>\nQ</s>\n<|assistant|>\n"),
    ("openhermes-2.5-mistral-7b.md", None, "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"),
    ("guanaco-65b.md", "qlora", "### Human: Q ### Assistant:"),
])
def test_real_cards_through_the_cli(card, method, want):
    r = run_cli("parse", REAL / card, "--format", "json")
    assert r.returncode == 0, r.stderr
    spec = json.loads(r.stdout)
    assert spec.get("method") == method
    assert render(spec) == want


def test_named_format_renders_the_same_through_the_built_chat_template(write_card):
    spec = parse(write_card, PROMPT_CASES["named by axolotl"][0])
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "Q"}]
    got = hf_render(chat_template(spec["prompt"]), messages)
    assert got == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n"


@pytest.mark.parametrize("said, named", [
    ("Prompt template: Llama-3", True),       # the name as data/chat_templates.yaml spells it
    ("the llama_3 prompt format", True),      # `-` written `_`
    ("uses the llama 3 prompt format", True),  # or a space
    ("llama3 format", True),                  # or nothing
    ("llama[3 format", False),                # not any character of a widened class
    ("llama^3 format", False),
])
def test_a_named_format_may_write_its_dash_as_underscore_space_or_nothing_only(said, named):
    from cardrepro.extract import prompt
    assert bool(prompt._prose_named().search(said)) is named
