"""Render a project (path -> bytes, in memory) and write it atomically, confined to its folder."""
from __future__ import annotations

import copy
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import sys
import tempfile
from pathlib import Path, PurePosixPath

from cardrepro import __version__
from cardrepro.project import dsconfig, memory_chart
from cardrepro.project.chat_template import chat_template
from cardrepro.project.data import build_defaults, generator_fingerprint
from cardrepro.project.render import render
from cardrepro.estimate import plan as estimate_plan
from cardrepro.paths import get
from cardrepro.project.compose import compose, load_bearing, safe_slug
from cardrepro.errors import CardError
from cardrepro.printable import escape_controls
from cardrepro.read import redact

LOCK_NAME = "cardrepro.lock.json"
PIN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PIN_VERSION_RE = re.compile(r"^[0-9][A-Za-z0-9.+!-]*$")

# Secrets and absolute machine paths are reported by the audit and never emitted: the reader's redaction.
scrub_text = redact.redact_text
scrub = redact.redact_value


C1_RE = re.compile(r"[\x7f-\x9f]")


def dump_json(value) -> bytes:
    """Strict JSON (a NaN or an infinity is a bug: the parser drops them), C0 escaped by json and
    DEL/C1 escaped here, so `cat spec.json` cannot drive a terminal."""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False)
    return (C1_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n").encode("utf-8")


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
    """The audit's findings for the spec (a function of the spec alone)."""
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


def _refuse_guesses(card_file, unmet):
    """CardError naming what the card does not say and the build would have to guess."""
    lines = [u["line"] for u in unmet if u.get("line")]
    what = escape_controls("; ".join(f"{u['path']}: {u['why']}" for u in unmet))   # dataset names are card text
    raise CardError(card_file, lines[0] if lines else None,
                    f"refusing to build on guesses: {what}. Pass --assume to build anyway with cardrepro's "
                    "defaults (the README then says which values were guessed)")


def shown_folder(out_dir) -> tuple[str, bool]:
    """How the README names the project folder, and whether that is only the folder's name. The
    path relative to the current directory when the folder is inside it; else just its name (its
    commands then run from the folder that holds it): an absolute path would make one card give
    different bytes on different machines."""
    path = Path(os.path.abspath(out_dir))
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix(), False
    except ValueError:
        return path.name, True


def render_project(spec: dict, findings=None, *, assume=True, folder=None) -> dict[str, bytes]:
    """Everything the build writes, as {relative posix path: bytes}, lock file included. With
    assume=False a card without a base model or without loadable data is refused (CardError).
    `folder` is shown_folder() of where it will be written (default: generated/<name>)."""
    spec_n = normalize_spec(spec)
    card_file = get(spec, "card.path") or safe_slug(spec.get("name"))   # the path as given, for error messages only
    try:
        model = compose(spec_n)
    except CardError as err:
        raise CardError(card_file, err.line, err.message) from None
    if model["unmet"] and not assume:
        _refuse_guesses(card_file, model["unmet"])
    tc = model["train_config"]
    name = tc["name"]
    files: dict[str, bytes] = {}

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

    num_gpus = int(tc["loop"]["num_gpus"])
    per_node = min(num_gpus, int(build_defaults()["gpus_per_node"]["value"]))
    where, by_name = folder or (f"generated/{name}", False)
    ctx = {"name": name, "folder": shlex.quote(escape_controls(where)), "folder_by_name": by_name, "tc": tc_out,
           "spec": scrub(spec_n), "num_gpus": num_gpus,
           "per_node": per_node, "nodes": -(-num_gpus // per_node),
           "example": scrub_text(example_user_message(spec_n)), "released": tc["inference"].get("model")}
    files["launch/deepspeed_single_node.sh"] = render("deepspeed_single_node.sh.j2", **ctx).encode()
    files["launch/deepspeed_multi_node.sh"] = render("deepspeed_multi_node.sh.j2", **ctx).encode()
    files["launch/hostfile.example"] = render("hostfile.example.j2", **ctx).encode()
    files["launch/torchrun.sh"] = render("torchrun.sh.j2", **ctx).encode()
    files["launch/slurm.sbatch"] = render("slurm.sbatch.j2", **ctx).encode()
    files["infer.sh"] = render("infer.sh.j2", **ctx).encode()
    files["requirements.txt"] = _requirements(spec_n, tc).encode()
    memory = estimate_plan.memory(spec_n)
    chart = memory_chart.svg(memory["rows"], f"Per-GPU memory estimate, {name} (audit CR502)") if memory else None
    if chart:
        files["memory.svg"] = chart.encode("utf-8")
    guessed = ({"unmet": model["unmet"], "assumed": scrub(load_bearing(model["assumed"]))}
               if model["unmet"] else None)
    files["README.md"] = render(
        "README.md.j2", **ctx, card_said=scrub(_card_said(spec_n)), assumed=scrub(model["assumed"]), guessed=guessed,
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
STAGE_PREFIX = ".cardrepro-stage-"   # a build's temporary folder inside the project; removed by the next build


def _parts(rel) -> tuple[str, ...]:
    """The parts of a project-relative posix path; CardError when it could point outside the folder."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\0" in rel:
        raise CardError(rel, None, "refusing to write outside the project folder")
    p = PurePosixPath(rel)
    if p.is_absolute() or rel.startswith("/") or any(part in ("..", ".", "") for part in rel.split("/")):
        raise CardError(rel, None, "refusing to write outside the project folder")
    return p.parts


def _inside(root: Path, path: Path) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root


def _target(root: Path, rel: str) -> Path:
    """root/rel with its folders created; refused when a folder on the way leads outside `root`."""
    target = root.joinpath(*_parts(rel))
    if not _inside(root, target.parent):
        raise CardError(rel, None, "refusing to write outside the project folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    if os.path.isdir(target) and not os.path.islink(target):
        raise CardError(target, None, "a folder is in the way of a file the build writes; move it away")
    return target


def read_lock(project: Path) -> dict | None:
    """The project's lock, or None when it has none or it is not a JSON object. A lock naming a path
    that is not a regular file inside the folder (`..`, absolute, backslash, a link leading out) is
    a tampered lock: CardError, and nothing it names is read or written."""
    path = Path(project) / LOCK_NAME
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(lock, dict):
        return None
    files = lock.get("files", {})
    if not isinstance(files, dict) or not all(isinstance(d, str) for d in files.values()):
        raise CardError(path, None, "untrusted lock file: `files` is not a table of path -> sha256")
    if not isinstance(lock.get("card") or {}, dict):
        raise CardError(path, None, "untrusted lock file: `card` is not a table")
    for rel in files:
        try:
            target = Path(project).joinpath(*_parts(rel))
        except CardError:
            raise CardError(path, None, f"untrusted lock file: {rel!r} is not a path inside the project") from None
        if not _inside(project, target) or (os.path.lexists(target) and not _regular(target)):
            raise CardError(path, None, f"untrusted lock file: {rel!r} is not a regular file inside the project")
    return lock


def _regular(path: Path) -> bool:
    return not os.path.islink(path) and os.path.isfile(path)


def _user_entries(folder: Path) -> list[str]:
    return [e.name for e in folder.iterdir() if not e.name.startswith(STAGE_PREFIX)]


def _claim_folder(out_dir: Path) -> dict | None:
    """Check that the build may write into `out_dir` and create it; returns its previous lock."""
    if os.path.lexists(out_dir) and not out_dir.is_dir():
        raise CardError(out_dir, None, "exists and is not a folder; refusing to replace it")
    lock = None
    if out_dir.is_dir():
        lock = read_lock(out_dir)
        if lock is None and _user_entries(out_dir):
            raise CardError(out_dir, None, f"folder is not empty and is not a cardrepro project (no readable "
                                           f"{LOCK_NAME}); refusing to write into it: choose a new or empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise CardError(out_dir, None, "folder is not writable")
    for entry in out_dir.glob(glob.escape(STAGE_PREFIX) + "*"):   # from a build that was killed
        shutil.rmtree(entry, ignore_errors=True)
    return lock


def _stage(files: dict[str, bytes], root: Path, stage: Path) -> list[tuple[Path, Path, Path | None]]:
    """Write every file into `stage` (fsynced, final mode) and keep a link to each file it will replace:
    [(staged, target, backup or None)], the lock last so that an interrupted swap leaves the old lock."""
    plan = []
    for i, rel in enumerate(sorted(files, key=lambda r: (r == LOCK_NAME, r))):
        target = _target(root, rel)
        staged = stage / str(i)
        with open(staged, "wb") as fh:
            fh.write(files[rel])
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(staged, 0o755 if rel.endswith(EXECUTABLE_SUFFIXES) else 0o644)
        backup = None
        if os.path.lexists(target):
            backup = stage / f"{i}.previous"
            try:
                os.link(target, backup, follow_symlinks=False)
            except OSError:             # a file system without hard links
                shutil.copy2(target, backup, follow_symlinks=False)
        plan.append((staged, target, backup))
    return plan


def _swap(plan) -> None:
    """os.replace each staged file over its target; on any failure put the replaced files back."""
    done = []
    try:
        for staged, target, backup in plan:
            os.replace(staged, target)
            done.append((target, backup))
    except BaseException:
        for target, backup in reversed(done):
            if backup is None:
                os.unlink(target)
            else:
                os.replace(backup, target)
        raise


def _drop_unwritten(lock: dict | None, files: dict[str, bytes], root: Path) -> None:
    """Remove the files the previous build wrote and this one does not, unless the user edited them."""
    for rel, digest in sorted(((lock or {}).get("files") or {}).items()):
        path = root.joinpath(*_parts(rel))
        if rel in files or not _regular(path):
            continue
        if sha256(path.read_bytes()) != digest:
            print(f"note: kept {path}: no longer generated, but edited since the last build", file=sys.stderr)
            continue
        path.unlink()
        for folder in path.parents:
            if folder == root or not folder.is_relative_to(root) or any(folder.iterdir()):
                break
            folder.rmdir()


def _recover_interrupted(out_dir: Path) -> None:
    """Earlier cardrepro versions swapped whole folders (.NAME.tmp-*, .NAME.old-* next to the project);
    a kill between the two renames left the project, its runs/ included, under .NAME.old-*."""
    parent, name = out_dir.parent, out_dir.name
    for old in sorted(parent.glob(glob.escape(f".{name}.old-") + "*")):
        if old.is_symlink() or not old.is_dir():
            continue
        if not os.path.lexists(out_dir):
            os.rename(old, out_dir)
            continue
        for entry in old.iterdir():     # the user's files (runs/, notes) go back; the old build's go
            if not os.path.lexists(out_dir / entry.name):
                os.rename(entry, out_dir / entry.name)
        if any((old / n).exists() for n in RUN_PRODUCTS):
            print(f"note: kept {old}: its run folders clash with the project's own", file=sys.stderr)
            continue
        shutil.rmtree(old)
    for tmp in parent.glob(glob.escape(f".{name}.tmp-") + "*"):
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp)


RUN_PRODUCTS = ("runs", "smoke")  # folders `cardrepro run` writes inside a project; a build never touches them


def write_project(files: dict[str, bytes], out_dir) -> Path:
    """Write `files` into `out_dir` in place, one atomic os.replace per file, after all of them were
    staged: a failure leaves the previous version whole. Only the paths the build writes or the old lock
    lists are touched (never the folder itself, runs/, smoke/ or the user's other files); a folder that
    is not a cardrepro project is refused unless it is empty."""
    out_dir = Path(out_dir)
    for rel in files:
        _parts(rel)
    if clash := [rel for rel in files if _parts(rel)[0] in RUN_PRODUCTS]:
        raise CardError(clash[0], None, "refusing to write into a run folder")
    try:
        _recover_interrupted(Path(os.path.abspath(out_dir)))
        lock = _claim_folder(out_dir)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out_dir))
        try:
            _swap(_stage(files, out_dir, stage))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        _drop_unwritten(lock, files, out_dir)
    except OSError as err:
        raise CardError(out_dir, None, f"cannot write the project: {err.strerror or err}") from None
    return out_dir


def default_out_dir(spec: dict) -> Path:
    return Path("generated") / safe_slug(spec.get("name"))


def refuse_audit_errors(card_file, findings):
    """`build --strict`: CardError when the audit reports an error."""
    errors = [f for f in findings or [] if f.get("severity") == "error"]
    if not errors:
        return
    listed = ", ".join(f"{f['code']}" + (f" (line {f['lines'][0]})" if f.get("lines") else "") for f in errors)
    raise CardError(card_file, (errors[0].get("lines") or [None])[0],
                    f"--strict: the audit reports {len(errors)} error(s): {listed}; first: {errors[0]['message']}")


def build_project(card_path, out_dir=None, *, spec=None, findings="audit", assume=False, strict=False) -> Path:
    """Parse (unless `spec` is given), audit, render and write a project. Returns its folder.
    Refuses (CardError) a card that states no base model or leaves nothing trainable unless `assume`,
    and, with `strict`, a card the audit finds errors in."""
    if spec is None:
        from cardrepro.spec import parse_card
        spec = parse_card(card_path)
    if findings == "audit":
        findings = run_audit(spec)
    if strict:
        refuse_audit_errors(get(spec, "card.path") or card_path or safe_slug(spec.get("name")), findings)
    out_dir = Path(out_dir) if out_dir else default_out_dir(spec)
    files = render_project(spec, findings, assume=assume, folder=shown_folder(out_dir))
    return write_project(files, out_dir)
