"""--dry-run: build the data, print one formatted sample with trained tokens marked, trained-token
counts per role and per dataset; fail (exit 2) when an assistant turn or its closing text is never
trained."""
from collections import Counter

from cardrepro.errors import CardError
from cardrepro.train import config as config_mod
from cardrepro.train import format as fmt
from cardrepro.train import rows
from cardrepro.train import train as train_mod

OPEN, CLOSE = "\u27e6", "\u27e7"     # ⟦trained⟧


def marked(tokenizer, r):
    """The sample's text with every run of trained tokens wrapped in ⟦ ⟧."""
    out, run, state = [], [], None
    for tok, m in zip(r.input_ids, r.trained):
        if m != state and run:
            text = tokenizer.decode(run)
            out.append(f"{OPEN}{text}{CLOSE}" if state else text)
            run = []
        state = m
        run.append(tok)
    if run:
        text = tokenizer.decode(run)
        out.append(f"{OPEN}{text}{CLOSE}" if state else text)
    return "".join(out)


def main(project, mode, echo=print):
    cfg, project = config_mod.load(project)
    notices = []
    data, tokenizer, _ = train_mod.prepare_data(cfg, project, mode, notices)
    for n in notices:
        echo(f"notice: {n}")
    per_role, per_dataset, problems, sample = Counter(), Counter(), [], None
    for name, (train, val, _) in data.items():
        for i, conv in enumerate(train):
            r = rows.render_conv(tokenizer, cfg, conv)
            for k, m in zip(r.seg_of, r.trained):
                if m:
                    seg = r.segments[k] if k >= 0 else ("", "bos", "bos", -1)
                    per_role[f"{seg[1]} {seg[2]}"] += 1
                    per_dataset[name] += 1
            for p in fmt.check_assistant_trained(r):
                problems.append(f"{name}[{i}]: {p}")
            n_assist = sum(1 for m in conv["messages"] if m["role"] == "assistant")
            if sample is None or (n_assist > 1 and sample[2] < 2):
                sample = (name, r, n_assist)
    name, r, _ = sample
    echo(f"sample from {name} ({len(r.input_ids)} tokens; trained tokens inside {OPEN} {CLOSE}):")
    echo(marked(tokenizer, r))
    echo(f"labels (trained targets only): {tokenizer.decode([t for t, m in zip(r.input_ids, r.trained) if m])!r}")
    echo("trained tokens per role:")
    for k in sorted(per_role):
        echo(f"  {k}: {per_role[k]}")
    echo("trained tokens per dataset:")
    for k in data:
        echo(f"  {k}: {per_dataset[k]} (train rows {len(data[k][0])}, val rows {len(data[k][1])})")
    if problems:
        for p in problems[:10]:
            echo(f"error: {p}")
        raise CardError(cfg["_path"], config_mod.line_of(cfg, "prompt"),
                        f"{len(problems)} assistant turn(s) or closing text never trained with masking "
                        f"'{cfg.get('masking')}' and this prompt format (first: {problems[0]})")
    untrained_user = [k for k in per_role if k.startswith("user") or k.startswith("system")]
    if untrained_user:
        echo(f"warning: prompt-side tokens are trained: {', '.join(untrained_user)}")
    echo("dry run ok: every assistant turn and its closing text is trained")
    return 0
