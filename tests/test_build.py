"""`cardrepro build`: project contents, determinism, atomicity, confinement, shell-safety.

Specs here are hand-written from the cards (tests/fixtures/build/*.spec.json) so the build is
tested on its own; tests/test_build_seeds.py builds the four seed cards through the real parser."""
import copy
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from cardrepro.project import dsconfig
from cardrepro.project.chat_template import chat_template
from cardrepro.project.project import LOCK_NAME, build_project, render_project, sha256, write_project
from cardrepro.errors import CardError
from conftest import ROOT, hf_render

FIX = Path(__file__).parent / "fixtures" / "build"
SPECS = sorted(p.stem.replace(".spec", "") for p in FIX.glob("*.spec.json"))
EVIL = "$(touch PWNED) `touch PWNED2` 'q' \"dq\" \\ ; rm -rf / # \n$HOME ../../etc"


def load_spec(name):
    return json.loads((FIX / f"{name}.spec.json").read_text(encoding="utf-8"))


def tree(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", SPECS)
def test_project_files_and_lock(name):
    files = render_project(load_spec(name), findings=None)
    for required in ("README.md", "spec.json", "train_config.json", "deepspeed/ds_config.resolved.json",
                     "chat_template.jinja", "launch/deepspeed_single_node.sh", "launch/deepspeed_multi_node.sh",
                     "launch/hostfile.example", "launch/torchrun.sh", "launch/slurm.sbatch", "infer.sh",
                     "requirements.txt", LOCK_NAME):
        assert required in files, required
    lock = json.loads(files[LOCK_NAME])
    assert set(lock["files"]) == set(files) - {LOCK_NAME}
    assert all(lock["files"][p] == sha256(files[p]) for p in lock["files"])
    assert lock["card"]["sha256"] == load_spec(name)["card"]["sha256"]
    tc = json.loads(files["train_config.json"])
    for key in ("name", "architecture", "base_model", "method", "prompt", "tokenizer", "masking", "datasets",
                "left_out", "training", "deepspeed", "peft", "quantization", "generation", "smoke", "assumed"):
        assert key in tc, key
    assert all(a["source"] and a["path"] for a in tc["assumed"])
    assert (Path("x") / tc["deepspeed"]["config"]).as_posix()[2:] in files
    for key in ("learning_rate", "num_train_epochs", "per_device_train_batch_size", "gradient_accumulation_steps",
                "adam_epsilon", "max_grad_norm", "seed"):
        assert tc["training"][key] is not None, key
    for key in ("max_length", "dtype", "num_gpus"):
        assert tc["loop"][key] is not None, key


def test_stablelm_values_and_assumptions():
    files = render_project(load_spec("stablelm-7b-sft"), findings=None)
    tc = json.loads(files["train_config.json"])
    assert tc["training"]["learning_rate"] == 1e-5 and tc["training"]["num_train_epochs"] == 4
    assert tc["tokenizer"]["special_tokens"][:2] == ["<|prompter|>", "<|assistant|>"]
    assert tc["masking"] == "oa"
    # the unreleased OA export is replaced by oasst1, and says so
    oa = tc["datasets"][0]
    assert oa["hub_id"] == "OpenAssistant/oasst1" and oa["substitute"] == "OpenAssistant/oasst1"
    assert oa["options"]["val_split"] == 0.2          # OA default, marked as assumed
    assumed = {a["path"]: a for a in tc["assumed"]}
    assert assumed["datasets[0].options.val_split"]["source"].startswith("default:oa-trainer-sft")
    # the card's steps per epoch imply 4 GPUs: the project knows it without the audit's findings
    assert assumed["training.num_gpus"]["value"] == 4 and assumed["training.num_gpus"]["source"].startswith("derived")
    assert "learning_rate" not in {a["path"].split(".")[-1] for a in tc["assumed"]}   # the spec had it
    # 3 epochs = 12000 steps -> 4000/epoch x 4 epochs
    resolved = json.loads(files["deepspeed/ds_config.resolved.json"])
    assert resolved["scheduler"]["params"]["total_num_steps"] == 16000
    assert resolved["train_batch_size"] == 4 * 4 * 2   # world x micro x accumulation
    assert resolved["optimizer"]["params"] == {"lr": 1e-5, "betas": [0.9, 0.95], "eps": 1e-12, "weight_decay": 0.0}
    assert resolved["fp16"]["enabled"] is True and resolved["bf16"]["enabled"] is False
    card = json.loads(files["deepspeed/ds_config.card.json"])
    assert card == load_spec("stablelm-7b-sft")["deepspeed"]["config"]        # as stated, "auto" kept
    # absolute machine paths never leave as-is
    assert b"/home/ubuntu" not in files["spec.json"] and b"/home/ubuntu" not in files["README.md"]
    readme = files["README.md"].decode()
    for text in ("cardrepro run generated/stablelm-7b-sft --smoke", "deepspeed_multi_node.sh", "slurm.sbatch",
                 "## What was assumed", "## Audit findings", "default:oa-trainer-sft"):
        assert text in readme


def test_lora_card_gets_peft_defaults_and_generated_zero_config():
    files = render_project(load_spec("bloomz-mona-lora"), findings=None)
    tc = json.loads(files["train_config.json"])
    assert tc["base_model"] == "bigscience/bloomz-1b7"
    assert tc["peft"] == {"type": "lora", "task_type": "CAUSAL_LM", "r": 8, "lora_alpha": 8, "lora_dropout": 0.0,
                          "bias": "none", "target_modules": ["query_key_value"]}
    assert tc["quantization"]["load_in_8bit"] is True
    assert not any(k.startswith("bnb_4bit") for k in tc["quantization"])     # 8-bit run: 4-bit fields dropped
    assumed = {a["path"]: a["source"] for a in tc["assumed"]}
    assert "PEFT LoraConfig default" in assumed["peft.r"]
    assert "under 4 GB" in assumed["base_model.name"]
    assert "deepspeed.config" in assumed and tc["deepspeed"]["assumed"] is True
    assert "deepspeed/ds_config.card.json" not in files
    gen = json.loads(files["deepspeed/ds_config.generated.json"])
    assert gen["zero_optimization"]["stage"] == 2 and gen["train_batch_size"] == "auto"
    resolved = json.loads(files["deepspeed/ds_config.resolved.json"])
    assert resolved["train_batch_size"] == 1 * 8 * 1                       # card: one A100
    req = files["requirements.txt"].decode()
    assert "peft==0.4.0  # stated by the card (line 1)" in req and "bitsandbytes==" in req
    assert "generated ZeRO-2 config, marked as assumed" in files["README.md"].decode()


# ------------------------------------------------------------------ DeepSpeed schema and resolution
def test_schema_rejects_unknown_keys_at_every_level():
    schema = json.loads((ROOT / "schemas" / "deepspeed.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    good = load_spec("stablelm-7b-sft")["deepspeed"]["config"]
    dsconfig.validate(good, "card", resolved=False)
    for mutate in (lambda c: c.__setitem__("no_such_key", 1),
                   lambda c: c["zero_optimization"].__setitem__("stage3_typo", 1),
                   lambda c: c["optimizer"]["params"].__setitem__("lrr", 1),
                   lambda c: c["fp16"].__setitem__("enable", True),
                   lambda c: c["zero_optimization"].__setitem__("stage", 7)):
        bad = copy.deepcopy(good)
        mutate(bad)
        with pytest.raises(CardError):
            dsconfig.validate(bad, "card", resolved=False)
    with pytest.raises(CardError, match="auto"):
        dsconfig.validate(good, "card", resolved=True)


def test_bucket_sizes_from_hidden_size_zero3():
    cfg = dsconfig.generated_config(3)
    training = {"per_device_train_batch_size": 1, "gradient_accumulation_steps": 32, "learning_rate": 8e-6,
                "max_grad_norm": 2.0, "adam_beta1": 0.9, "adam_beta2": 0.95, "adam_epsilon": 1e-12,
                "weight_decay": 0.0, "warmup_steps": 0}
    out, filled = dsconfig.resolve_autos(cfg, world_size=16, training=training, dtype="fp16", hidden_size=2560,
                                         total_num_steps=50)
    z = out["zero_optimization"]
    assert z["reduce_bucket_size"] == 2560 ** 2
    assert z["stage3_prefetch_bucket_size"] == int(0.9 * 2560 ** 2)
    assert z["stage3_param_persistence_threshold"] == 25600
    assert out["train_batch_size"] == 16 * 32 and "scheduler" not in out and out["fp16"]["enabled"] is True
    assert not dsconfig.find_auto(out) and "train_batch_size" in filled
    assert dsconfig.total_optimizer_steps(1000, 4, 2, 4, 3) == 3 * 31


# ------------------------------------------------------------------ chat template
CARD_PROMPTS = [  # (card, user message, the card's example prompt, as the card prints it)
    ("stablelm-7b-sft", "What is a meme, and what's the history behind this word?",
     "<|prompter|>What is a meme, and what's the history behind this word?<|endoftext|><|assistant|>"),
    ("bloomz-mona-lora", "天气:晴天,日期:双休日,时间:凌晨,提示我去做:买咖啡",
     "human:天气:晴天,日期:双休日,时间:凌晨,提示我去做:买咖啡assistant:"),
]


@pytest.mark.parametrize("name,message,expected", CARD_PROMPTS)
def test_chat_template_reproduces_card_prompt(name, message, expected):
    card_text = (ROOT / "cards" / f"{name}.md").read_text(encoding="utf-8")
    assert expected in card_text                     # the expectation really is the card's text
    template = render_project(load_spec(name), None)["chat_template.jinja"].decode()
    assert hf_render(template, [{"role": "user", "content": message}]) == expected


@pytest.mark.parametrize("value", ["<human>:", "a\nb", 'q"uote\'s', "back\\slash\\n", "{{ 7*7 }}{% if 1 %}x{% endif %}",
                                   "emoji 😀 中文", "\t tab ", ""])
def test_chat_template_is_byte_exact_for_hostile_strings(value):
    prompt = {"user_prefix": value, "user_suffix": "\n", "assistant_prefix": "<bot>:" + value,
              "assistant_suffix": "</s>", "system_prefix": None, "system_suffix": None}
    t = chat_template(prompt)
    msgs = [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1 {{x}}"},
            {"role": "user", "content": "Q2"}]
    want = value + "Q1\n" + "<bot>:" + value + "A1 {{x}}</s>" + value + "Q2\n" + "<bot>:" + value
    assert hf_render(t, msgs) == want
    assert hf_render(t, msgs[:2], add_generation_prompt=False) == value + "Q1\n<bot>:" + value + "A1 {{x}}</s>"


# ------------------------------------------------------------------ determinism, atomicity, confinement
def test_deterministic(tmp_path, monkeypatch):
    spec = load_spec("stablelm-7b-sft")
    a = build_project(None, tmp_path / "a" / "p", spec=spec, findings=None)
    b = build_project(None, tmp_path / "b" / "p", spec=copy.deepcopy(spec), findings=None)
    assert tree(a) == tree(b)
    # the card path the build was run with does not leak into the output
    spec2 = copy.deepcopy(spec)
    spec2["card"]["path"] = str(tmp_path / "elsewhere" / "stablelm-7b-sft.md")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")     # outside the projects: each README names its folder `p`
    c = build_project(None, tmp_path / "c" / "p", spec=spec2, findings=None)
    assert tree(a) == tree(c)
    assert tree(build_project(None, a, spec=spec, findings=None)) == tree(b)    # rebuild in place


def test_rebuild_keeps_what_run_wrote(tmp_path):
    spec = load_spec("stablelm-7b-sft")
    out = build_project(None, tmp_path / "p", spec=spec, findings=None)
    (out / "runs" / "smoke").mkdir(parents=True)
    (out / "runs" / "smoke" / "metrics.jsonl").write_text("{}\n")
    (out / "smoke").mkdir()
    (out / "stray.txt").write_text("hand edit")
    build_project(None, out, spec=spec, findings=None)
    assert (out / "runs" / "smoke" / "metrics.jsonl").read_text() == "{}\n" and (out / "smoke").is_dir()
    assert (out / "stray.txt").read_text() == "hand edit"  # files the lock does not list are the user's
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".p.")]  # no temporary folders left


def test_atomic_failure_leaves_previous_version_whole(tmp_path, monkeypatch):
    spec = load_spec("stablelm-7b-sft")
    out = build_project(None, tmp_path / "generated" / "p", spec=spec, findings=None)
    before = tree(out)
    changed = copy.deepcopy(spec)
    changed["training"]["learning_rate"] = 2e-5
    calls = {"n": 0}
    real_fsync = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 5:
            raise OSError("disk full (injected)")
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(CardError, match="cannot write the project: disk full .injected."):
        build_project(None, out, spec=changed, findings=None)
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["p"]         # no temp folders left

    real_replace = os.replace
    calls["n"] = 0

    def failing_replace(src, dst):     # the swap itself fails after some files were replaced
        calls["n"] += 1
        if calls["n"] == 4:
            raise OSError("replace failed (injected)")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(CardError, match="injected"):
        build_project(None, out, spec=changed, findings=None)
    monkeypatch.setattr(os, "replace", real_replace)
    assert tree(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["p"]
    after = tree(build_project(None, out, spec=changed, findings=None))
    assert after != before and b"2e-05" in after["train_config.json"]


def test_confined_card_values_never_become_paths(tmp_path, monkeypatch):
    spec = load_spec("stablelm-7b-sft")
    spec["name"] = "../../../escape/../x"
    spec["base_model"]["name"] = "../../etc/passwd"
    spec["datasets"].append({"name": "../../../tmp/evil", "options": {"input_file_path": "../../../etc/shadow"},
                             "availability": "local_path"})
    spec["deepspeed"]["config_ref"] = "../../outside.json"
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    out = build_project(None, None, spec=spec, findings=None)
    assert out.resolve().parent == (work / "generated").resolve()
    assert ".." not in out.name and "/" not in out.name
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(work / "generated" / out.name in p.parents for p in written)
    tc = json.loads((out / "train_config.json").read_text())
    assert any(d["name"] == "../../../tmp/evil" for d in tc["left_out"])    # kept as data, not as a path
    for bad in ("../x", "/abs", "a/../../b", "a\\..\\b"):
        with pytest.raises(CardError):
            write_project({bad: b"x"}, tmp_path / "w" / "p")
    assert not (tmp_path / "w" / "p").exists()


# ------------------------------------------------------------------ shell safety
def _fake_tool(bin_dir: Path, name: str, record: Path):
    bin_dir.mkdir(exist_ok=True)
    tool = bin_dir / name
    tool.write_text(f"#!{sys.executable}\nimport json, sys\n"
                    f"open({str(record)!r}, 'w').write(json.dumps(sys.argv[1:]))\n")
    tool.chmod(0o755)


def test_shell_safe_with_hostile_card_values(tmp_path):
    spec = load_spec("stablelm-7b-sft")
    spec["name"] = "evil-$(touch PWNED)-`id`"
    spec["base_model"]["name"] = EVIL
    spec["prompt"]["examples"] = [{"user": EVIL, "prompt": EVIL}]
    spec["model"]["hub_id"] = "org/model" + EVIL
    spec["environment"] = {"torch": "2.0; rm -rf /", "evil pkg": "1.0", "peft": "0.4.0\n--index-url http://x"}
    out = build_project(None, tmp_path / "proj", spec=spec, findings=None)
    scripts = [p for p in out.rglob("*") if p.suffix in (".sh", ".sbatch")]
    assert len(scripts) == 5
    for script in scripts:
        subprocess.run(["bash", "-n", str(script)], check=True)
        assert os.access(script, os.X_OK)
    bin_dir, record = tmp_path / "bin", tmp_path / "argv.json"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHON": sys.executable}
    # infer.sh: the card's example prompt reaches argv literally
    _fake_tool(bin_dir, "cardrepro", record)
    subprocess.run(["bash", str(out / "infer.sh")], check=True, cwd=tmp_path, env=env)
    argv = json.loads(record.read_text())
    assert argv[:2] == ["infer", str(out)]
    assert argv[argv.index("--prompt") + 1] == EVIL
    assert argv[argv.index("--checkpoint") + 1] == "org/model" + EVIL
    # the launchers: deepspeed / torchrun get the project path inside one JSON argument
    for script, tool in (("launch/deepspeed_single_node.sh", "deepspeed"), ("launch/torchrun.sh", "torchrun")):
        _fake_tool(bin_dir, tool, record)
        subprocess.run(["bash", str(out / script), "2"], check=True, cwd=tmp_path, env=env,
                       stderr=subprocess.DEVNULL)
        argv = json.loads(record.read_text())
        assert json.loads(argv[-1]) == {"project": str(out), "mode": "full"}
        assert "2" in argv
    hostfile = tmp_path / "hostfile"
    hostfile.write_text("# comment\nnodeA slots=8\nnodeB slots=8\n")
    _fake_tool(bin_dir, "deepspeed", record)
    subprocess.run(["bash", str(out / "launch/deepspeed_multi_node.sh"), str(hostfile)], check=True, cwd=tmp_path,
                   env=env, stderr=subprocess.DEVNULL)
    argv = json.loads(record.read_text())
    assert argv[argv.index("--num_nodes") + 1] == "2" and argv[argv.index("--master_addr") + 1] == "nodeA"
    assert not list(tmp_path.rglob("PWNED*"))
    # every card value in a script sits inside single quotes
    text = (out / "infer.sh").read_text()
    assert f"DEFAULT_PROMPT={shlex.quote(EVIL)}\n" in text
    req = (out / "requirements.txt").read_text()
    assert "index-url" not in req and "rm -rf" not in req and "evil pkg" not in req



def test_card_deepspeed_json_with_unknown_key_is_a_card_error():
    spec = load_spec("stablelm-7b-sft")
    spec["deepspeed"]["config"]["zero_optimization"]["stage3_typo"] = 1
    spec["provenance"]["deepspeed.config"] = {"origin": "card", "line": 212, "text": "{"}
    with pytest.raises(CardError) as err:
        render_project(spec, None)
    assert str(err.value).startswith("cards/stablelm-7b-sft.md:212: the card's DeepSpeed JSON: DeepSpeed config "
                                     "invalid at zero_optimization")
    assert "stage3_typo" in str(err.value) and "\n" not in str(err.value)


def test_scrub_redacts_machine_paths_and_secrets_once():
    from cardrepro.project.project import scrub_text
    assert scrub_text("--cache_dir /home/ubuntu/data_cache --x") == "--cache_dir <local>/data_cache --x"
    assert scrub_text("<local>/data_cache") == "<local>/data_cache"          # already redacted upstream
    assert scrub_text("https://host/home/x and relative data/home") == "https://host/home/x and relative data/home"
    assert scrub_text("token hf_" + "a" * 30) == "token [REDACTED:huggingface_token]"
