"""`cardrepro regen`: rebuild only the projects whose inputs changed, judged from their lock files."""
from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from cardrepro import __version__
from cardrepro.project.data import generator_fingerprint
from cardrepro.project.project import (LOCK_NAME, build_project, findings_hash, read_lock, run_audit, sha256,
                                     spec_hash)
from cardrepro.project.compose import safe_slug
from cardrepro.errors import CardError
from cardrepro.naming import slug


def _input_reasons(lock: dict, card_sha: str) -> list[str]:
    """What changed among the inputs a lock records without parsing: card bytes, version, code."""
    reasons = []
    if (lock.get("card") or {}).get("sha256") != card_sha:
        reasons.append("card bytes changed")
    if lock.get("cardrepro_version") != __version__:
        reasons.append(f"cardrepro version changed ({lock.get('cardrepro_version')} -> {__version__})")
    if lock.get("generator_sha256") != generator_fingerprint():
        reasons.append("build code, templates or data files changed")
    return reasons


def _edited(project: Path, lock: dict) -> list[str]:
    return [rel for rel, digest in sorted((lock.get("files") or {}).items())
            if not (project / rel).is_file() or sha256((project / rel).read_bytes()) != digest]


def stale_reasons(project: Path, spec: dict, findings) -> list[str]:
    """Why `project` no longer matches what building `card` would write (empty: up to date)."""
    if not project.is_dir():
        return ["not built"]
    lock = read_lock(project)
    if lock is None:
        return [f"{LOCK_NAME} missing or unreadable"]
    reasons = _input_reasons(lock, spec["card"]["sha256"])
    if lock.get("spec_sha256") != spec_hash(spec):
        reasons.append("spec changed (parser or trainer defaults)")
    if lock.get("findings_sha256") != findings_hash(findings):
        reasons.append("audit findings changed")
    edited = _edited(project, lock)
    if edited:
        reasons.append("generated files edited or missing: " + ", ".join(edited))
    return reasons


def unchanged(card: Path, project: Path) -> bool:
    """Up to date without parsing: same card bytes, same cardrepro code and data, files as written.
    (The spec and the findings are functions of exactly these.)"""
    lock = read_lock(project)
    return lock is not None and not _input_reasons(lock, sha256(card.read_bytes())) and not _edited(project, lock)


class Outcome(NamedTuple):
    stale: list[str]                # projects that were (or with --check would be) rebuilt
    failed: list[CardError]         # cards that could not be regenerated; the others still were


def regen_all(cards_dir, generated=None, *, projects=(), check=False, echo=print, warn=print) -> Outcome:
    """Rebuild (or with check=True only report) stale projects: each card's generated/<name>, or with
    `projects` the projects found there by their lock files. A card that fails is reported through
    `warn` and the rest go on."""
    cards_dir = Path(cards_dir)
    cards = _cards(cards_dir)
    if projects:
        stale, failed = _regen_found(cards, cards_dir, find_projects(projects), check, echo, warn)
    else:
        stale, failed = _regen_generated(cards, cards_dir, generated, check, echo, warn)
    if check and stale:
        echo(f"{len(stale)} stale project(s); run `cardrepro regen {cards_dir}"
             + "".join(f" --projects {p}" for p in projects) + "`")
    if failed:
        echo(f"{len(failed)} card(s) failed")
    return Outcome(stale, failed)


def _cards(cards_dir: Path) -> list[Path]:
    if not cards_dir.is_dir():
        raise CardError(cards_dir, None, "cards folder not found")
    cards = sorted(cards_dir.glob("*.md"))
    if not cards:
        raise CardError(cards_dir, None, "no cards (*.md) in this folder")
    return cards


def _regen_generated(cards, cards_dir, generated, check, echo, warn):
    """Each card's project is generated/<its name>; projects there without a card are noted."""
    generated = Path(generated) if generated else cards_dir.resolve().parent / "generated"
    stale, failed, claimed = [], [], {}
    for card in cards:
        try:
            name = _regen_card(card, generated, claimed, check, echo)
        except CardError as err:
            failed.append(err)
            warn(str(err))
            continue
        if name:
            stale.append(name)
    if generated.is_dir():
        for lock in sorted(generated.glob(f"*/{LOCK_NAME}")):
            if lock.parent.name not in claimed:
                echo(f"note: {_shown(lock.parent)} has no card in {cards_dir}")
    return stale, failed


def find_projects(folders) -> list[Path]:
    """Projects (folders holding a lock file) among `folders` and their direct subfolders: where
    `build -o` wrote them."""
    found = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise CardError(folder, None, "projects folder not found")
        candidates = [folder] + sorted(p.parent for p in folder.glob(f"*/{LOCK_NAME}"))
        found += [p for p in candidates if (p / LOCK_NAME).is_file() and p not in found]
    return found


def _card_of(project: Path, cards: list[Path]) -> Path | None:
    """The card a project was built from: its lock's `card.file` (the card's file name)."""
    lock = read_lock(project) or {}
    wanted = (lock.get("card") or {}).get("file")
    return next((card for card in cards if card.name == wanted), None)


def _regen_found(cards, cards_dir, projects, check, echo, warn):
    """Bring each found project up to date with its card, in place; a project whose card is not in
    `cards_dir` and a card without a project are noted, neither is built."""
    stale, failed, matched = [], [], set()
    for project in projects:
        card = _card_of(project, cards)
        if card is None:
            echo(f"note: {_shown(project)} has no card in {cards_dir}")
            continue
        matched.add(card)
        try:
            if _update(card, project, None, check, echo):
                stale.append(_shown(project))
        except CardError as err:
            failed.append(err)
            warn(str(err))
    for card in cards:
        if card not in matched:
            echo(f"note: {_shown(card)} has no project in the folders given")
    return stale, failed


def _regen_card(card: Path, generated: Path, claimed: dict, check: bool, echo) -> str | None:
    """Bring one card's project up to date (check: only judge it). Returns its name when it was stale."""
    name = _claim(safe_slug(slug(card)), card, claimed)
    if unchanged(card, generated / name):
        echo(f"up to date: {_shown(generated / name)}")
        return None
    from cardrepro.spec import parse_card
    spec = parse_card(card)
    name = _claim(safe_slug(spec.get("name")), card, claimed)
    return name if _update(card, generated / name, spec, check, echo) else None


def _update(card: Path, project: Path, spec, check: bool, echo) -> bool:
    """Rebuild `project` from `card` when stale (check: only report it). True when it was stale."""
    if spec is None:
        if unchanged(card, project):
            echo(f"up to date: {_shown(project)}")
            return False
        from cardrepro.spec import parse_card
        spec = parse_card(card)
    findings = run_audit(spec)
    reasons = stale_reasons(project, spec, findings)
    if not reasons:
        echo(f"up to date: {_shown(project)}")
        return False
    if check:
        echo(f"stale: {_shown(project)}: {'; '.join(reasons)}")
    else:
        build_project(card, project, spec=spec, findings=findings)
        echo(f"rebuilt {_shown(project)}: {'; '.join(reasons)}")
    return True


def _claim(name: str, card: Path, claimed: dict) -> str:
    """Two cards must never write one project: the second would make it stale forever."""
    other = claimed.setdefault(name, card)
    if other != card:
        raise CardError(card, None, f"maps to the same project `{name}` as {other.name} (card names that differ "
                                    "only in case, spaces or punctuation); rename one of the two cards")
    return name


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
