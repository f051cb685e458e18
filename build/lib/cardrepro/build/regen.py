"""`cardrepro regen`: rebuild only the projects whose inputs changed, judged from their lock files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cardrepro import __version__
from cardrepro.build.data import generator_fingerprint
from cardrepro.build.project import (LOCK_NAME, build_project, findings_hash, run_audit, sha256, spec_hash)
from cardrepro.build.resolve import safe_slug
from cardrepro.errors import CardError
from cardrepro.naming import slug


def stale_reasons(card: Path, project: Path, spec: dict, findings) -> list[str]:
    """Why `project` no longer matches what building `card` would write (empty: up to date)."""
    if not project.is_dir():
        return ["not built"]
    lock_path = project / LOCK_NAME
    try:
        lock = json.loads(lock_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return [f"{LOCK_NAME} missing or unreadable"]
    reasons = []
    card_sha = hashlib.sha256(card.read_bytes()).hexdigest()
    if (lock.get("card") or {}).get("sha256") != card_sha:
        reasons.append("card bytes changed")
    if lock.get("cardrepro_version") != __version__:
        reasons.append(f"cardrepro version changed ({lock.get('cardrepro_version')} -> {__version__})")
    if lock.get("generator_sha256") != generator_fingerprint():
        reasons.append("build code, templates or data files changed")
    if lock.get("spec_sha256") != spec_hash(spec):
        reasons.append("spec changed (parser or trainer defaults)")
    if lock.get("findings_sha256") != findings_hash(findings):
        reasons.append("audit findings changed")
    edited = []
    for rel, digest in sorted((lock.get("files") or {}).items()):
        path = project / rel
        if not path.is_file() or sha256(path.read_bytes()) != digest:
            edited.append(rel)
    if edited:
        reasons.append("generated files edited or missing: " + ", ".join(edited))
    return reasons


def unchanged(card: Path, project: Path) -> bool:
    """Up to date without parsing: same card bytes, same cardrepro code and data, files as written.
    (The spec and the findings are functions of exactly these.)"""
    try:
        lock = json.loads((project / LOCK_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if ((lock.get("card") or {}).get("sha256") != hashlib.sha256(card.read_bytes()).hexdigest()
            or lock.get("cardrepro_version") != __version__ or lock.get("generator_sha256") != generator_fingerprint()):
        return False
    return all((project / rel).is_file() and sha256((project / rel).read_bytes()) == digest
               for rel, digest in (lock.get("files") or {}).items())


def regen_all(cards_dir, generated=None, *, check=False, echo=print) -> list[str]:
    """Rebuild (or with check=True only report) stale projects. Returns the stale project names."""
    cards_dir = Path(cards_dir)
    if not cards_dir.is_dir():
        raise CardError(cards_dir, None, "cards folder not found")
    generated = Path(generated) if generated else cards_dir.resolve().parent / "generated"
    cards = sorted(cards_dir.glob("*.md"))
    if not cards:
        raise CardError(cards_dir, None, "no cards (*.md) in this folder")
    from cardrepro.spec import parse_card
    stale, names = [], set()
    for card in cards:
        if unchanged(card, generated / safe_slug(slug(card))):
            names.add(safe_slug(slug(card)))
            echo(f"up to date: {_shown(generated / safe_slug(slug(card)))}")
            continue
        spec = parse_card(card)
        name = safe_slug(spec.get("name"))
        names.add(name)
        project = generated / name
        findings = run_audit(spec, card)
        reasons = stale_reasons(card, project, spec, findings)
        shown = _shown(project)
        if not reasons:
            echo(f"up to date: {shown}")
            continue
        stale.append(name)
        if check:
            echo(f"stale: {shown}: {'; '.join(reasons)}")
        else:
            build_project(card, project, spec=spec, findings=findings)
            echo(f"rebuilt {shown}: {'; '.join(reasons)}")
    if generated.is_dir():
        for lock in sorted(generated.glob(f"*/{LOCK_NAME}")):
            if lock.parent.name not in names:
                echo(f"note: {_shown(lock.parent)} has no card in {cards_dir}")
    if check and stale:
        echo(f"{len(stale)} stale project(s); run `cardrepro regen {cards_dir}`")
    return stale


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
