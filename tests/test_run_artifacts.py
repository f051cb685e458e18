"""What users of the HF Trainer, TRL and Axolotl expect of a run: step/loss/lr lines beside a progress
bar and the paths at the end; final/ loads with from_pretrained and its tokenizer renders the card's
prompt; a LoRA adapter in PEFT's format that `cardrepro merge` folds into the base (same logits);
`infer` from any working folder and on the released model; `--report-to` only for a full run with
its package installed; the one-time DeepSpeed compile announced.

One short LoRA smoke run (2 steps, started from the project's parent folder with a relative path)
serves most tests."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import CARDS, ROOT, cli_in_process, run_cli
from test_train_preference import orpo_card

os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TORCH_EXTENSIONS_DIR", str(ROOT / ".cache" / "torch_extensions"))
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]   # one ninja for JIT

TRAIN = {"script": True, "timeout": 600}
LORA = "bloomz-mona-lora"
STEP_LINE = re.compile(r"^step (\d+)/2  loss (\d+\.\d{4})  lr (\S+)$", re.M)


def build(card, out):
    r = run_cli("build", card, "-o", out)
    assert r.returncode == 0, r.stdout + r.stderr
    return out


@pytest.fixture(scope="module")
def lora_run(tmp_path_factory):
    """(project, run folder, finished `cardrepro run`) of a 2-step LoRA smoke run, merged by --merge."""
    root = tmp_path_factory.mktemp("lora")
    proj = build(CARDS / f"{LORA}.md", root / LORA)
    r = run_cli("run", LORA, "--smoke", "--max-steps", "2", "--merge", cwd=root, **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return proj, proj / "runs" / "smoke", r


@pytest.fixture(scope="module")
def merged(lora_run, tmp_path_factory):
    """`cardrepro merge RUN -o OUT`, run from an unrelated folder."""
    out = tmp_path_factory.mktemp("merged") / "m"
    r = cli_in_process("merge", lora_run[1], "-o", out, cwd=tmp_path_factory.mktemp("elsewhere"))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert f"merged model: {out}" in r.stdout
    return out


def card_prompt(cfg, messages):
    from cardrepro.train import format as fmt
    segs = fmt.segments(messages, cfg["prompt"], cfg["tokenizer"]["eos_token"], add_generation_prompt=True)
    return "".join(s[0] for s in segs)


def test_console_shows_step_loss_lr_a_progress_bar_and_where_files_are(lora_run):
    proj, run, r = lora_run
    steps = STEP_LINE.findall(r.stdout)
    assert [int(s) for s, _, _ in steps] == [1, 2]
    metrics = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines() if l.strip()]
    logged = {m["step"]: m for m in metrics if "loss" in m}
    for step, loss, lr in steps:
        assert float(loss) == pytest.approx(logged[int(step)]["loss"], abs=1e-4)
        assert float(lr) == pytest.approx(logged[int(step)]["learning_rate"], rel=1e-2)
    assert "2/2 [" in r.stderr                      # tqdm's bar
    run_abs = Path(LORA) / "runs" / "smoke"       # the run was started with a relative project path
    for label, path in (("loss plot", run_abs / "loss.png"), ("metrics", run_abs / "metrics.jsonl"),
                        ("final adapter (PEFT)", run_abs / "final")):
        assert re.search(rf"^{re.escape(label)}: {re.escape(str(path))}\b", r.stdout, re.M), label
        assert (proj.parent / path).exists()
    assert f"merged model: {run_abs / 'merged'}" in r.stdout


def test_final_tokenizer_reproduces_the_cards_prompt(lora_run):
    from transformers import AutoTokenizer

    from cardrepro.train import config as config_mod
    from cardrepro.train import infer
    proj, run, _ = lora_run
    cfg, _ = config_mod.load(proj)
    tok = AutoTokenizer.from_pretrained(str(run / "final"))
    assert tok.chat_template == (proj / "chat_template.jinja").read_text(encoding="utf-8")
    for messages in ([{"role": "user", "content": "今天天气:晴天,提示我去做:买咖啡"}],
                     [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                      {"role": "user", "content": "and {{ now }}?\n"}]):
        text = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert text == card_prompt(cfg, messages)
        assert text.startswith(cfg["prompt"]["user_prefix"]) and text.endswith(cfg["prompt"]["assistant_prefix"])
        assert tok.decode(infer.prompt_ids(tok, cfg, messages)) == text    # what infer feeds the model


def test_adapter_alone_in_peft_format_loads_with_from_pretrained_anywhere(lora_run, tmp_path):
    proj, run, _ = lora_run
    final = run / "final"
    assert (final / "adapter_model.safetensors").is_file() and not (final / "model.safetensors").exists()
    base = json.loads((final / "adapter_config.json").read_text())["base_model_name_or_path"]
    assert Path(base).is_absolute() and Path(base) == (proj / "smoke" / "model").resolve()
    code = ("import sys; from transformers import AutoModelForCausalLM; "
            "m = AutoModelForCausalLM.from_pretrained(sys.argv[1]); "
            "print(sum('lora_A' in n for n, _ in m.named_parameters()))")
    out = subprocess.run([sys.executable, "-c", code, str(final)], capture_output=True, text=True, timeout=300,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.split()[-1]) > 0


def logits(model, ids):
    import torch
    with torch.no_grad():
        return model(input_ids=torch.tensor([ids])).logits


def test_merge_gives_the_logits_of_base_plus_adapter(lora_run, merged):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    proj, run, _ = lora_run
    final = run / "final"
    base_dir = json.loads((final / "adapter_config.json").read_text())["base_model_name_or_path"]
    tok = AutoTokenizer.from_pretrained(str(merged))
    assert tok.chat_template == (proj / "chat_template.jinja").read_text(encoding="utf-8")
    assert not (merged / "adapter_config.json").exists()
    ids = tok("human:你好，今天做什么?assistant:")["input_ids"]
    base = logits(AutoModelForCausalLM.from_pretrained(base_dir).eval(), ids)
    with_adapter = logits(PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base_dir), str(final)).eval(), ids)
    assert (with_adapter - base).abs().max().item() > 1e-3       # the 2 steps moved the adapter
    for folder in (merged, run / "merged"):                      # cardrepro merge -o, run --merge
        merged_logits = logits(AutoModelForCausalLM.from_pretrained(str(folder)).eval(), ids)
        assert (merged_logits - with_adapter).abs().max().item() < 1e-4, folder


def test_merge_refuses_a_run_without_adapter_and_a_foreign_folder(lora_run, tmp_path):
    proj, run, _ = lora_run
    r = cli_in_process("merge", proj)
    assert r.returncode == 2 and "no LoRA adapter" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "notes.txt").write_text("mine")
    r = cli_in_process("merge", run, "-o", tmp_path)
    assert r.returncode == 2 and "holds no model" in r.stderr
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_infer_on_a_lora_project_from_another_folder(lora_run, tmp_path):
    proj, _, _ = lora_run
    r = run_cli("infer", proj.resolve(), "--prompt", "你好", "--max-new-tokens", "4", cwd=tmp_path, **TRAIN)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "internal error" not in r.stderr and r.stdout.strip()


def test_infer_on_the_released_model_the_card_names(lora_run, merged, tmp_path):
    proj = tmp_path / "p"
    shutil.copytree(lora_run[0], proj, ignore=shutil.ignore_patterns("runs", "smoke"))
    r = cli_in_process("infer", proj, "--released", "--prompt", "hi")
    assert r.returncode == 2 and "names no released model" in r.stderr.strip().splitlines()[-1]
    path = proj / "train_config.json"
    cfg = json.loads(path.read_text())
    cfg["inference"]["model"] = str(merged)      # a folder stands in for the hub id (offline)
    path.write_text(json.dumps(cfg, indent=2))
    r = cli_in_process("infer", proj, "--released", "--prompt", "你好", "--max-new-tokens", "4", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip()


@pytest.mark.parametrize("args,message", [
    (["--smoke", "--report-to", "tensorboard"], "only with --full"),
    (["--full", "--report-to", "mlflow"], "unknown integration 'mlflow'"),
])
def test_report_to_only_for_a_full_run_with_a_known_integration(tmp_path, args, message):
    proj = build(CARDS / f"{LORA}.md", tmp_path / LORA)
    r = cli_in_process("run", proj, *args)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (proj / "runs").exists()


@pytest.mark.parametrize("name,package", [("tensorboard", "tensorboard"), ("wandb", "wandb")])
def test_report_to_names_the_package_to_install(tmp_path, name, package):
    from importlib.util import find_spec

    from cardrepro.commands import run as command
    if find_spec(package):       # installed here: the option is taken as TrainingArguments takes it
        assert command.report_targets(name, smoke=False) == [name]
        return
    r = cli_in_process("run", build(CARDS / f"{LORA}.md", tmp_path / LORA), "--full", "--report-to", name)
    assert r.returncode == 2 and r.stderr.strip() == f"--report-to:0: {name} is not installed: pip install {package}"


def test_full_run_passes_report_to_to_training_arguments(tmp_path):
    from cardrepro.train import config as config_mod
    from cardrepro.train import train
    cfg, _ = config_mod.load(build(CARDS / f"{LORA}.md", tmp_path / LORA))
    out = train.runtime_overrides(cfg, "full", {"report_to": ["tensorboard"]}, "r", None, True, 1, 0, [])
    assert out["report_to"] == ["tensorboard"]
    assert train.runtime_overrides(cfg, "smoke", {}, "r", None, True, 1, 0, [])["report_to"] == []


def test_run_merge_refused_for_a_project_without_lora(tmp_path):
    proj = build(CARDS / "stablelm-7b-sft.md", tmp_path / "s")
    r = cli_in_process("run", proj, "--smoke", "--merge")
    assert r.returncode == 2 and "trains no LoRA adapter" in r.stderr
    assert not (proj / "runs").exists()


def test_deepspeed_compile_is_announced_only_when_the_op_is_not_built(lora_run, tmp_path, monkeypatch):
    from cardrepro.train import console
    said = []
    console.announce_ds_compile(said.append)          # the shared cache: the lora run built or found the op
    assert said == []
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "fresh"))
    console.announce_ds_compile(said.append)
    assert said == ["compiling DeepSpeed's CPU ops once (about 1-2 minutes) ..."]


def test_preference_run_final_carries_the_chat_template(tmp_path, write_card):
    from transformers import AutoTokenizer

    from cardrepro.train import config as config_mod
    proj = build(orpo_card(write_card), tmp_path / "o")
    r = run_cli("run", proj, "--smoke", "--max-steps", "2", **TRAIN)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert len(STEP_LINE.findall(r.stdout)) == 2
    tok = AutoTokenizer.from_pretrained(str(proj / "runs" / "smoke" / "final"))
    cfg, _ = config_mod.load(proj)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == card_prompt(cfg, messages)
