"""Trainer throughput: faithful mode vs the stock HF recipe vs padding-free batching (issue 6).

    .venv/bin/python bench/train.py [--steps 16] [--rounds 2] [--max-length 2048] [--project generated/stablelm-7b-sft]

Same tiny model (the project's --smoke model: its architecture, its offline tokenizer), same
samples in the same order, same sequence length, same optimizer settings and number of steps for:

  faithful   the embedded trainer's batching: OA rows (truncation, loss mask) and rows.Collator
             (right padding to a multiple of 16), HF Trainer, default (SDPA) attention
  stock      what a user would write: HF Trainer + DataCollatorForSeq2Seq(padding="max_length"),
             every row padded to max_length
  packed     padding-free: the same micro-batches concatenated into one row
             (cardrepro/train/packing.py), each sample attending only to itself
  trl_*      TRL's SFTTrainer on the same rows and labels, loss averaged per micro-batch:
             trl_padded (dynamic padding), trl_padding_free (the micro-batch flattened, SDPA with
             transformers' block-diagonal mask from position_ids), trl_bfd and trl_wrapped
             (packing into max_length bins, one bin per micro-batch: other micro-batches, so their
             losses are not compared); bench/README.md says why TRL's other modes are left out

Reports non-pad tokens/s (timed from the end of step 1 to the end of the last step), the pad
share, and ratios; modes run in lockstep, `--rounds` times, in rotating order, and ratios are
medians of per-step tokens/s ratios. Also reports the largest per-step loss difference against
faithful (packed, trl_padded and trl_padding_free must be < 1e-4; tests/test_bench_packing.py and
tests/test_bench_trl.py are the tests of that).

Sample lengths follow the published per-dataset statistics of the seed mix (bench/README.md);
the text is words drawn from the project's sample data, sized to those token counts.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DS_ACCELERATOR", "cpu")
for k in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ.setdefault(k, "1")

from common import machine, print_table  # noqa: E402  (bench/common.py)

# Per-dataset length statistics: (mix weight, mean rounds, mean prompt tokens, mean completion tokens).
# Weights: the OA mix's train sizes (Open-Assistant SLM configs, see bench/README.md). Lengths:
# Wang et al. 2023, Table 1 (tokens per round), gsm8k estimated; see bench/README.md.
MIX = {
    "oasst_export": (37605, 1.6, 34.8, 212.5),
    "vicuna": (55744, 3.2, 71.0, 357.8),
    "dolly15k": (14264, 1.0, 118.1, 91.3),
    "grade_school_math_instructions": (8352, 1.0, 45.0, 60.0),
    "code_alpaca": (19020, 1.0, 35.6, 67.8),
}
SIGMA = 1.0          # lognormal shape (the tables give means only); mean matched


def versions():
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for name in ("torch", "transformers", "trl"):
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            out.append(f"{name} absent")
    return ", ".join(out)


def fmt_load(avg):
    return " / ".join(f"{x:.2f}" for x in avg)


def lognormal(rng, mean, sigma=SIGMA):
    return max(1, int(round(rng.lognormvariate(math.log(mean) - sigma * sigma / 2, sigma))))


def make_conversations(n, words, tokens_per_word, seed):
    """n conversations in the loaders' shape ({"messages": [{role, content}]}, "source")."""
    rng = random.Random(seed)
    names = list(MIX)
    weights = [MIX[k][0] for k in names]
    out = []
    for _ in range(n):
        name = rng.choices(names, weights)[0]
        _, rounds, p_len, c_len = MIX[name]
        extra = rounds - 1.0
        k = 1 + (poisson(rng, extra) if extra > 0 else 0)
        msgs = []
        for _ in range(k):
            for role, mean in (("user", p_len), ("assistant", c_len)):
                n_words = max(1, round(lognormal(rng, mean) / tokens_per_word))
                msgs.append({"role": role, "content": " ".join(rng.choice(words) for _ in range(n_words))})
        out.append({"messages": msgs, "source": name})
    return out


def poisson(rng, lam):
    L, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= L:
            return k
        k += 1


class Meter:
    """Wraps a collator: per call, non-pad tokens and tokens actually computed (incl. padding)."""

    def __init__(self, collator):
        self.collator, self.real, self.computed = collator, [], []

    def __call__(self, batch):
        out = self.collator(batch)
        self.real.append(sum(len(b["input_ids"]) for b in batch))
        self.computed.append(int(out["input_ids"].numel()))
        return out


def setup(project_src, max_length, n_rows, seed, workdir):
    """Project copy -> (cfg, tokenizer, model dir, rows, smoke-tokenizer tokens per word)."""
    from cardrepro.train import config as config_mod
    from cardrepro.train import rows as rows_mod
    from cardrepro.train import smoke
    from cardrepro.train import tokenizer as tok_mod
    from cardrepro.train import train as train_mod

    project = workdir / "project"
    shutil.copytree(project_src, project, ignore=shutil.ignore_patterns("runs", "smoke"))
    cfg, project = config_mod.load(project)
    cfg["smoke"]["max_length"] = max_length          # the tiny model's positions cover the bench length
    data, tokenizer, model_dir = train_mod.prepare_data(cfg, project, "smoke", [])
    text = " ".join(smoke.corpus(cfg, data))
    words = [w for w in text.split() if not any(t in w for t in tok_mod.special_tokens(cfg))]
    sample = " ".join(words[:4000])
    tpw = len(tokenizer(sample, add_special_tokens=False)["input_ids"]) / max(1, len(sample.split()))
    convs = make_conversations(int(n_rows * 1.2) + 8, words, tpw, seed)
    rows = rows_mod.build_rows(tokenizer, cfg, convs, max_length, seed)[:n_rows]
    return cfg, tokenizer, model_dir, rows, tpw


class Turns:
    """Lockstep: the modes' trainers run in threads and take turns one optimizer step at a time
    (faithful step i, stock step i, packed step i, faithful step i+1, ...), so each step of a mode
    is timed within seconds of the same step of the others and load spikes from other processes
    hit all modes alike. Only one trainer computes at any moment."""

    def __init__(self, order):
        self.order, self.i, self.done = list(order), 0, set()
        self.cv = threading.Condition()
        self.start = threading.Barrier(len(order))

    def wait(self, mode):
        with self.cv:
            self.cv.wait_for(lambda: self.order[self.i] == mode)

    def _advance(self):
        n = len(self.order)
        for k in range(1, n + 1):
            j = (self.i + k) % n
            if self.order[j] not in self.done:
                self.i = j
                break
        self.cv.notify_all()

    def next(self):
        with self.cv:
            self._advance()

    def finish(self, mode):
        with self.cv:
            self.done.add(mode)
            if self.order[self.i] == mode:
                self._advance()


# TRL's SFTTrainer modes that run on CPU (bench/README.md says why the others are left out):
# SFTConfig fields per mode, and whether the mode trains the same targets in the same micro-batches
# as faithful mode (then its per-step losses must match faithful's within 1e-4).
TRL_MODES = {
    "trl_padded": (dict(padding_free=False, packing=False), True),        # dynamic padding (TRL's default)
    "trl_padding_free": (dict(padding_free=True, packing=False), True),   # the micro-batch flattened, position_ids
    "trl_bfd": (dict(packing=True, packing_strategy="bfd"), False),        # rows packed into max_length bins
    "trl_wrapped": (dict(packing=True, packing_strategy="wrapped"), False),  # bins cut at max_length, across rows
}
EQUAL_SEMANTICS = {"packed", *(m for m, (_, same) in TRL_MODES.items() if same)}
DEFAULT_MODES = ["faithful", "stock", "packed", *TRL_MODES]


def in_order(trainer_cls):
    """trainer_cls taking the rows in the order given (pre-shuffled with the seed, the same for
    every mode): the default RandomSampler draws from the global RNG, which the threads share."""
    from torch.utils.data import SequentialSampler

    class InOrder(trainer_cls):
        def _get_train_sampler(self, train_dataset=None):
            return SequentialSampler(train_dataset if train_dataset is not None else self.train_dataset)

    return InOrder


def trl_trainer(mode, model, tokenizer, rows, args_kw, max_length, out_dir, callbacks=()):
    """TRL's SFTTrainer on the OA rows (already tokenized, truncated and loss-masked: TRL keeps a
    dataset's own `labels` column, which is what its assistant_only_loss would build), rows in the
    order given, the loss averaged per micro-batch as the embedded trainer does. Packing modes put
    one max_length bin in each micro-batch, about a faithful micro-batch's tokens."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from cardrepro.train import train as train_mod

    fields, _ = TRL_MODES[mode]
    kw = dict(args_kw, bf16=False, fp16=False, dataset_num_proc=None, shuffle_dataset=False)
    if fields.get("packing"):
        kw.update(max_length=max_length, per_device_train_batch_size=1)
    else:
        kw.update(max_length=None)        # rows are already cut to max_length; None keeps every row
    args = SFTConfig(output_dir=str(out_dir / mode), **fields, **kw)

    data = Dataset.from_list([{"input_ids": list(r["input_ids"]), "labels": list(r["labels"])} for r in rows])
    trainer = in_order(SFTTrainer)(model=model, args=args, train_dataset=data, processing_class=tokenizer, callbacks=list(callbacks))
    train_mod.average_loss_per_micro_batch(trainer)
    return trainer


def make_trainer(mode, cfg, tokenizer, model_dir, rows, args_kw, max_length, out_dir, turns, rec):
    import torch
    from transformers import DataCollatorForSeq2Seq, Trainer, TrainerCallback, TrainingArguments
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from cardrepro.train import model as model_mod
    from cardrepro.train import packing
    from cardrepro.train import rows as rows_mod
    from cardrepro.train import train as train_mod

    tr = cfg["training"]
    model = model_mod.load(cfg, model_dir, tokenizer, torch.float32, tr.get("activation_checkpointing"), True)
    if mode == "packed":
        packing.enable(model)
        collator = packing.PackingCollator(tokenizer.pad_token_id)
    elif mode == "faithful":
        collator = rows_mod.Collator(tokenizer.pad_token_id)
    elif mode == "stock":
        collator = DataCollatorForSeq2Seq(tokenizer, padding="max_length", max_length=max_length,
                                          label_pad_token_id=-100, return_tensors="pt")
    else:
        collator = None                   # TRL's own (it refuses a custom one when padding-free)
    rec["step_s"], rec["losses"] = [], []

    class Clock(TrainerCallback):
        def on_train_begin(self, a, state, control, **kw):
            turns.start.wait()

        def on_step_begin(self, a, state, control, **kw):
            turns.wait(mode)
            rec["_t"] = time.perf_counter()

        def on_step_end(self, a, state, control, **kw):
            rec["step_s"].append(time.perf_counter() - rec["_t"])
            turns.next()

        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                rec["losses"].append(float(logs["loss"]))

    if mode in TRL_MODES:
        trainer = trl_trainer(mode, model, tokenizer, rows, args_kw, max_length, out_dir, [Clock()])
        rec["meter"] = trainer.data_collator = Meter(trainer.data_collator)
    else:
        rec["meter"] = Meter(collator)
        args = TrainingArguments(output_dir=str(out_dir / mode), **args_kw)
        trainer = in_order(Trainer)(model=model, args=args, train_dataset=rows, data_collator=rec["meter"], callbacks=[Clock()])
    if mode != "stock":   # the embedded trainer's loss averaging; stock keeps transformers' own
        train_mod.average_loss_per_micro_batch(trainer)
    trainer.pop_callback(PrinterCallback)
    trainer.pop_callback(ProgressCallback)
    return trainer


def run_lockstep(modes, cfg, tokenizer, model_dir, rows, args_kw, max_length, out_dir):
    """Train every mode on `rows` in lockstep; per mode: step times, tokens, losses."""
    turns = Turns(modes)
    recs = {m: {} for m in modes}
    trainers = {m: make_trainer(m, cfg, tokenizer, model_dir, rows, args_kw, max_length, out_dir, turns, recs[m])
                for m in modes}
    errors = {}

    def work(m):
        try:
            trainers[m].train()
        except BaseException as err:          # surface it after the others are released
            errors[m] = err
            turns.start.abort()
        finally:
            turns.finish(m)

    threads = [threading.Thread(target=work, args=(m,), name=f"bench-{m}") for m in modes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise next(iter(errors.values()))
    out = {}
    for m, rec in recs.items():
        meter, step_s = rec["meter"], rec["step_s"]
        # a packing mode has more bins than steps; the loader fetches one batch ahead, never trained
        assert len(meter.real) in (len(step_s), len(step_s) + 1) if m in TRL_MODES else len(meter.real) == len(step_s), \
            (m, len(meter.real), len(step_s))
        n = len(step_s)
        out[m] = {"step_s": step_s, "real": meter.real[:n], "computed": meter.computed[:n], "losses": rec["losses"]}
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", type=Path, default=ROOT / "generated" / "stablelm-7b-sft")
    ap.add_argument("--steps", type=int, default=16, help="optimizer steps per run (the first is not timed)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="runs of the three modes (in lockstep); each round trains on fresh samples")
    ap.add_argument("--max-length", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=None, help="per-device batch (default: the project's smoke value)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--modes", default=",".join(DEFAULT_MODES))
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args(argv)

    import torch
    import transformers
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    import datasets
    datasets.disable_progress_bars()
    import warnings
    warnings.filterwarnings("ignore")

    t_setup = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="cardrepro-bench-train-"))
    try:
        from cardrepro.train import config as config_mod
        from cardrepro.train import train as train_mod
        cfg0, _ = config_mod.load(a.project)
        sm, tr = cfg0["smoke"], cfg0["training"]
        batch = a.batch or int(sm["per_device_train_batch_size"])
        ga = int(sm["gradient_accumulation_steps"])
        n_rows = a.steps * batch * ga          # per round; every mode of a round trains on the same rows
        cfg, tokenizer, model_dir, all_rows, tpw = setup(a.project, a.max_length, n_rows * a.rounds, a.seed, work)
        args_kw = dict(
            train_mod.hyperparameters(cfg0, "smoke"), max_steps=a.steps, per_device_train_batch_size=batch,
            logging_steps=1, save_strategy="no", eval_strategy="no", report_to=[],
            activation_checkpointing=bool(tr.get("activation_checkpointing")), remove_unused_columns=False,
            dataloader_num_workers=0, use_cpu=not torch.cuda.is_available(), disable_tqdm=True,
            dataloader_pin_memory=False)
        lens = sorted(len(r["input_ids"]) for r in all_rows)
        setup_s = time.perf_counter() - t_setup
        m = machine(torch_threads=torch.get_num_threads(), cuda=torch.cuda.is_available(),
                    versions=versions(), loadavg=os.getloadavg())
        print(f"machine: {m['nproc']} cores, {m['cpu']}, torch threads {m['torch_threads']}, GPU: "
              f"{'yes' if m['cuda'] else 'none'}, {m['date']}; {m['versions']}; load average {fmt_load(m['loadavg'])}")
        print(f"model: tiny {cfg['architecture']} ({cfg['name']} --smoke: hidden {sm['model']['hidden_size']}, "
              f"{sm['model']['num_layers']} layers, vocab {len(tokenizer)}); max_length {a.max_length}; batch {batch} x "
              f"GA {ga}; {a.steps} steps; activation checkpointing "
              f"{'on' if args_kw['activation_checkpointing'] else 'off'}; DeepSpeed off in all modes")
        print(f"samples: {len(all_rows)} rows ({n_rows} per round), tokens min/median/mean/max {lens[0]}/{lens[len(lens)//2]}/"
              f"{sum(lens)/len(lens):.0f}/{lens[-1]} ({tpw:.2f} smoke-tokenizer tokens per word); setup {setup_s:.1f} s",
              flush=True)

        modes = a.modes.split(",")
        runs = []
        for r in range(a.rounds):
            order = modes[r % len(modes):] + modes[:r % len(modes)]
            rows = all_rows[r * n_rows:(r + 1) * n_rows]
            rng = random.Random(a.seed + r)
            rows = rng.sample(rows, len(rows))
            res = run_lockstep(order, cfg, tokenizer, model_dir, rows, args_kw, a.max_length, work / f"r{r}")
            runs.append(res)
            print(f"  round {r + 1}: " + ", ".join(
                f"{m} {sum(res[m]['real'][1:]) / sum(res[m]['step_s'][1:]):.0f} tok/s" for m in modes), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # per-step figures, first step of each run excluded (allocation warm-up)
    def steps(mode):
        return [(res[mode]["real"][i], res[mode]["computed"][i], res[mode]["step_s"][i])
                for res in runs for i in range(1, len(res[mode]["step_s"]))]

    def tok_s(mode):
        st = steps(mode)
        return sum(x[0] for x in st) / sum(x[2] for x in st)

    def ratio(num, den):
        """Median over steps of the per-step ratio of non-pad tokens/s, step i of each mode measured
        back to back (for modes on the same rows, the inverse ratio of step times)."""
        return statistics.median((n[0] / n[2]) / (d[0] / d[2]) for n, d in zip(steps(num), steps(den)))

    def loss_gap(mode):
        return max(abs(x - y) for res in runs for x, y in zip(res[mode]["losses"], res["faithful"]["losses"]))

    def gap_cell(mode):
        if "faithful" not in modes:
            return "-"
        if mode in TRL_MODES and mode not in EQUAL_SEMANTICS:
            return f"({loss_gap(mode):.1e}: other micro-batches)"
        return f"{loss_gap(mode):.2e}"

    print()
    hdr = ("mode", "non-pad tok/s", "pad share", "computed/non-pad", "max |loss - faithful|")
    table = []
    for mode in modes:
        st = steps(mode)
        real, comp = sum(x[0] for x in st), sum(x[1] for x in st)
        table.append((mode, f"{tok_s(mode):.0f}", f"{1 - real / comp:.1%}", f"{comp / real:.2f}x", gap_cell(mode)))
    print_table(hdr, table)
    print()
    checks = []
    if "faithful" in modes and "stock" in modes:
        checks.append(("faithful / stock", ratio("faithful", "stock"), 1.0))
    if "packed" in modes and "faithful" in modes:
        checks.append(("packed / faithful", ratio("packed", "faithful"), 1.5))
    if "packed" in modes and "stock" in modes:
        checks.append(("packed / stock", ratio("packed", "stock"), None))
    trl = [x for x in modes if x in TRL_MODES]
    if "packed" in modes and trl:
        fastest = max(trl, key=tok_s)
        checks += [(f"packed / {x}", ratio("packed", x), 1.0 if x == fastest else None) for x in trl]
    for name, v, target in checks:
        tgt = f">= {target:.1f}x  {'PASS' if v >= target else 'MISS'}" if target else "(no target)"
        print(f"{name:<26} {v:5.2f}x  {tgt}")
    if trl and "packed" in modes:
        print(f"TRL's fastest CPU mode here: {fastest} (non-pad tok/s over the whole run)")
    for mode in [x for x in modes if x in EQUAL_SEMANTICS] if "faithful" in modes else []:
        d = loss_gap(mode)
        print(f"{mode} vs faithful per-step losses: max |diff| {d:.2e} over {a.rounds} x {a.steps} steps "
              f"({'PASS' if d < 1e-4 else 'MISS'} < 1e-4)")
    m["loadavg_end"] = os.getloadavg()
    print(f"load average at the end: {fmt_load(m['loadavg_end'])} (1, 5, 15 min; {m['nproc']} cores)")
    n_steps = len(steps(modes[0]))
    print(f"modes in lockstep (one optimizer step each in turn); ratios: median of {n_steps} per-step ratios; "
          f"tok/s: sum of tokens / sum of step times; step 1 of each run not timed")
    if a.json:
        a.json.write_text(json.dumps({"machine": m, "args": {k: str(v) for k, v in vars(a).items()},
                                      "runs": runs, "ratios": {n: v for n, v, _ in checks},
                                      "tokens_per_s": {m: tok_s(m) for m in modes}}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
