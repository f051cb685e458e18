"""Render a project (path -> bytes, in memory) and write it atomically, confined to its folder."""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from cardrepro import __version__
from cardrepro.build import dsconfig, memory_chart
from cardrepro.build.chat_template import chat_template
from cardrepro.build.data import build_defaults, generator_fingerprint
from cardrepro.build.render import render
from cardrepro.audit.context import get
from cardrepro.build.resolve import resolve, safe_slug
from cardrepro.errors import CardError
from cardrepro.read import redact

LOCK_NAME = "cardrepro.lock.json"
PIN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PIN_VERSION_RE = re.compile(r"^[0-9][A-Za-z0-9.+!-]*$")

# Secrets and absolute machine paths are reported by the audit and never emitted: the reader's redaction.
scrub_text = redact.redact_text
scrub = redact.redact_value


def dump_json(value) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def normalize_spec(spec: dict) -> dict:
    """The spec as written into the project: the card path reduced to its file name (a build must not
    depend on the directory it was run from)."""
    spec = copy.deepcopy(spec)
    card = spec.get("card")
    if isinstance(card, dict) and card.get("path"):
        card["path"] = PurePosixPath(str(card["path"]).replace("\\", "/")).name
    return spec


def spec_hash(spec: dict) -> str:
    """Hash of the spec without its `card` block (the card's bytes are tracked on their own)."""
    body = {k: v for k, v in normalize_spec(spec).items() if k != "card"}
    return sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8"))


def findings_hash(findings) -> str | None:
    if findings is None:
        return None
    return sha256(json.dumps(findings, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8"))


def run_audit(spec: dict):
    """The audit's findings for the spec (the audit reads the card at spec.card.path)."""
    from cardrepro.audit import audit_spec
    return [dict(f) for f in audit_spec(spec)]


def _requirements(spec: dict, tc: dict) -> str:
    stated = {}
    env = spec.get("environment") or {}
    for pkg, ver in sorted(env.items()):
        pkg_s, ver_s = str(pkg).strip().lower(), str(ver).strip().lstrip("=v")
        if PIN_NAME_RE.match(pkg_s) and PIN_VERSION_RE.match(ver_s):
            stated[pkg_s] = (ver_s, (get(spec, "provenance") or {}).get(f"environment.{pkg}", {}).get("line"))
    pins = build_defaults()["full_run_packages"]
    packages = [(k, str(v)) for k, v in pins["always"].items()]
    if tc.get("quantization"):
        packages += [(k, str(v)) for k, v in pins["quantization"].items()]
    for pkg in sorted(stated):
        if pkg not in dict(packages):
            packages.append((pkg, None))
    rows = []
    for pkg, tested in packages:
        if pkg in stated:
            ver, line = stated[pkg]
            rows.append({"pin": f"{pkg}=={ver}", "note": f"stated by the card (line {line})" if line else
                         "stated by the card", "tested": tested})
        else:
            rows.append({"pin": f"{pkg}=={tested}", "note": "version cardrepro's trainer is tested with",
                         "tested": None})
    return render("requirements.txt.j2", rows=rows, torch_first=True)


def _card_said(spec: dict) -> list[dict]:
    prov = spec.get("provenance") or {}
    rows = []
    for path in sorted(prov):
        rec = prov[path] or {}
        if not isinstance(rec, dict):
            continue
        value = get(spec, path)
        rows.append({"path": path, "value": value, "origin": rec.get("origin"), "line": rec.get("line"),
                     "text": rec.get("text")})
    return rows


def example_user_message(spec: dict) -> str:
    """The user message of the card's first example prompt (the example minus the prompt format)."""
    prompt = spec.get("prompt") or {}
    head = prompt.get("user_prefix") or ""
    tail = (prompt.get("user_suffix") or "") + (prompt.get("assistant_prefix") or "")
    for ex in prompt.get("examples") or []:
        text = ex.get("text") if isinstance(ex, dict) else ex
        if isinstance(text, str) and text.startswith(head) and text.endswith(tail) and len(text) > len(head + tail):
            return text[len(head):len(text) - len(tail)]
    for ex in prompt.get("examples") or []:       # hand-made specs: {"user": ...}
        if isinstance(ex, dict) and isinstance(ex.get("user"), str):
            return ex["user"]
    return "Hello, who are you?"


def render_project(spec: dict, findings=None) -> dict[str, bytes]:
    """Everything the build writes, as {relative posix path: bytes}, lock file included."""
    spec_n = normalize_spec(spec)
    model = resolve(spec_n, findings)
    tc = model["train_config"]
    name = tc["name"]
    files: dict[str, bytes] = {}

    card_file = get(spec, "card.path") or name     # the path as given, for error messages only
    ds_line = ((spec.get("provenance") or {}).get("deepspeed.config") or {}).get("line")
    try:
        if model["ds_card"] is not None:
            files["deepspeed/ds_config.card.json"] = dump_json(model["ds_card"])
            dsconfig.validate(model["ds_card"], "the card's DeepSpeed JSON", resolved=False)
        else:
            files["deepspeed/ds_config.generated.json"] = dump_json(model["ds_base"])
            dsconfig.validate(model["ds_base"], "the generated DeepSpeed JSON", resolved=False)
        dsconfig.validate(model["ds_resolved"], "the resolved DeepSpeed JSON", resolved=True)
    except CardError as err:
        raise CardError(card_file, ds_line, f"{err.path}: {err.message}") from None
    files["deepspeed/ds_config.resolved.json"] = dump_json(model["ds_resolved"])

    tc_out = scrub(tc)
    files["train_config.json"] = dump_json(tc_out)
    files["spec.json"] = dump_json(scrub(spec_n))
    files["chat_template.jinja"] = chat_template(tc["prompt"]).encode("utf-8")

    num_gpus = int(tc["training"]["num_gpus"])
    per_node = min(num_gpus, int(build_defaults()["gpus_per_node"]["value"]))
    ctx = {"name": name, "tc": tc_out, "spec": scrub(spec_n), "num_gpus": num_gpus,
           "per_node": per_node, "nodes": -(-num_gpus // per_node),
           "example": scrub_text(example_user_message(spec_n)), "released": tc["inference"].get("model")}
    files["launch/deepspeed_single_node.sh"] = render("deepspeed_single_node.sh.j2", **ctx).encode()
    files["launch/deepspeed_multi_node.sh"] = render("deepspeed_multi_node.sh.j2", **ctx).encode()
    files["launch/hostfile.example"] = render("hostfile.example.j2", **ctx).encode()
    files["launch/torchrun.sh"] = render("torchrun.sh.j2", **ctx).encode()
    files["launch/slurm.sbatch"] = render("slurm.sbatch.j2", **ctx).encode()
    files["infer.sh"] = render("infer.sh.j2", **ctx).encode()
    files["requirements.txt"] = _requirements(spec_n, tc).encode()
    memory = next((f for f in findings or [] if f.get("code") == "CR502"), None)
    chart = memory_chart.svg(memory, f"Per-GPU memory estimate, {name} (audit CR502)") if memory else None
    if chart:
        files["memory.svg"] = chart.encode("utf-8")
    files["README.md"] = render(
        "README.md.j2", **ctx, card_said=scrub(_card_said(spec_n)), assumed=scrub(model["assumed"]),
        notes=scrub(model["notes"]), findings=scrub(findings) if findings is not None else None,
        files=sorted(files) + ["README.md", LOCK_NAME], ds=tc_out["deepspeed"]).encode("utf-8")

    lock = {
        "card": {"file": get(spec_n, "card.path"), "sha256": get(spec_n, "card.sha256")},
        "cardrepro_version": __version__,
        "generator_sha256": generator_fingerprint(),
        "spec_sha256": spec_hash(spec_n),
        "findings_sha256": findings_hash(findings),
        "files": {path: sha256(data) for path, data in sorted(files.items())},
    }
    files[LOCK_NAME] = dump_json(lock)
    return files


EXECUTABLE_SUFFIXES = (".sh", ".sbatch")


def _confined(root: Path, rel: str) -> Path:
    p = PurePosixPath(rel)
    if p.is_absolute() or any(part in ("..", "") for part in p.parts) or "\\" in rel or "\0" in rel:
        raise CardError(rel, None, "refusing to write outside the project folder")
    target = (root / Path(*p.parts)).resolve()
    if os.path.commonpath([str(target), str(root.resolve())]) != str(root.resolve()):
        raise CardError(rel, None, "refusing to write outside the project folder")
    return target


RUN_PRODUCTS = ("runs", "smoke")  # folders `cardrepro run` writes inside a project; kept across rebuilds


def write_project(files: dict[str, bytes], out_dir) -> Path:
    """Write into a temporary folder next to `out_dir`, then swap it in with renames: a failure at any
    point leaves the previous version whole (and no temporary folder behind)."""
    out_dir = Path(out_dir)
    parent = out_dir.parent if str(out_dir.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=parent))
    old = None
    try:
        for rel in sorted(files):
            target = _confined(tmp, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                fh.write(files[rel])
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(target, 0o755 if rel.endswith(EXECUTABLE_SUFFIXES) else 0o644)
        os.chmod(tmp, 0o755)
        if out_dir.exists() or out_dir.is_symlink():
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=parent))
            os.rmdir(old)
            os.rename(out_dir, old)
        try:
            os.rename(tmp, out_dir)
        except BaseException:
            if old is not None:
                os.rename(old, out_dir)
                old = None
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        for name in RUN_PRODUCTS:  # what `cardrepro run` wrote belongs to the user, not to the build
            if (old / name).exists() and name not in files and not (out_dir / name).exists():
                os.rename(old / name, out_dir / name)
        shutil.rmtree(old, ignore_errors=True)
    return out_dir


def default_out_dir(spec: dict) -> Path:
    return Path("generated") / safe_slug(spec.get("name"))


def build_project(card_path, out_dir=None, *, spec=None, findings="audit") -> Path:
    """Parse (unless `spec` is given), audit, render and write a project. Returns its folder."""
    if spec is None:
        from cardrepro.spec import parse_card
        spec = parse_card(card_path)
    if findings == "audit":
        findings = run_audit(spec)
    files = render_project(spec, findings)
    return write_project(files, Path(out_dir) if out_dir else default_out_dir(spec))
