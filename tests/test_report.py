"""`cardrepro report CARD -o report.html` and `audit --format html`: one self-contained page per
card, checked as a browser renders it (headless Chromium's DOM and a screenshot)."""
import json
import shutil
import struct
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import CARDS, SEEDS, run_cli

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_browser = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (CI installs Debian's `chromium`: see .ci/run)")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

HOSTILE_CARD = """---
license: apache-2.0
base_model: "<script>alert(1)</script>"
datasets:
- "<img src=x onerror=alert(2)>"
---
# Model <script>alert(3)</script>

This model was trained on <img src=x onerror=alert(4)> text, in prose.

## Training config

```yaml
datasets:
  - "<script>alert(6)</script>"
  - "<img src=x onerror=alert(7)>"
```

## Training hyperparameters
- learning_rate: 2e-05
- num_epochs: 3
- train_batch_size: 8
"""


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, tag=None, cls=None):
        return [n for n in self.walk() if (tag is None or n.tag == tag)
                and (cls is None or cls in (n.attrs.get("class") or "").split())]

    def by_id(self, ident):
        return next((n for n in self.walk() if n.attrs.get("id") == ident), None)


class DomBuilder(HTMLParser):
    """A tree of the serialized DOM Chromium dumps (well-formed: every element closed)."""
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.at = Node("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.at)
        self.at.children.append(node)
        if tag not in VOID:
            self.at = node

    def handle_endtag(self, tag):
        n = self.at
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.at = n.parent

    def handle_data(self, data):
        self.at.children.append(data)


def dom_of(html_text):
    b = DomBuilder()
    b.feed(html_text)
    return b.root


def chromium(*args):
    res = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-extensions", *args], capture_output=True, text=True, timeout=90)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def rendered(page: Path):
    return dom_of(chromium("--dump-dom", page.resolve().as_uri()))


def screenshot(page: Path, png: Path):
    chromium(f"--screenshot={png}", "--window-size=1366,900", page.resolve().as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1366, 900)
    assert len(data) > 30_000, "a blank or near-blank screenshot"   # a rendered page of text and colour
    return data


def spec_and_audit(card):
    """What the page must show, from the library: the spec (provenance) and the audit report."""
    from cardrepro import audit_report, parse_card
    spec = parse_card(str(card))
    return spec, audit_report(spec)


def write_report(card, out):
    res = run_cli("report", card, "-o", out)
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""
    return out


def assert_self_contained(dom):
    """No script at all, nothing fetched: every link stays inside the page."""
    assert dom.find_all("script") == []
    assert [n for n in dom.walk() if "src" in n.attrs] == []
    assert dom.find_all("link") == [] and dom.find_all("iframe") == [] and dom.find_all("img") == []
    assert all(n.attrs["href"].startswith("#") for n in dom.walk() if "href" in n.attrs)
    assert [n for n in dom.walk() if any(k.startswith("on") for k in n.attrs)] == []


def assert_highlights(dom, spec):
    """Each card line with provenance holds a highlight naming that line's spec paths."""
    card_lines = Path(spec["card"]["path"]).read_text(encoding="utf-8").split("\n")
    by_line = {}
    for path, prov in spec["provenance"].items():
        if isinstance(prov.get("line"), int) and card_lines[prov["line"] - 1].strip():
            by_line.setdefault(prov["line"], set()).add(path)
    assert by_line, "the card gave no located value"
    for no, paths in by_line.items():
        row = dom.by_id(f"L{no}")
        assert row is not None, f"no row for card line {no}"
        marks = row.find_all("a", "hl")
        assert marks, f"card line {no} ({sorted(paths)}) has no highlight"
        named = {p for m in marks for p in m.attrs["data-paths"].split()}
        assert paths <= named, (no, named, paths)   # a key's line may also show values of the block below it
        for m in marks:     # each highlight links to its row in the provenance table
            target = dom.by_id(m.attrs["href"][1:])
            assert target is not None and target.find_all("td")[0].text() in named


def assert_findings(dom, report):
    items = dom.find_all("li", "finding")
    assert [i.attrs["data-code"] for i in items] == [f["code"] for f in report["findings"]]
    for f in report["findings"]:    # beside its first card line
        if f["lines"]:
            row = dom.by_id(f"L{f['lines'][0]}")
            if row is not None:
                assert f["code"] in [n.find_all("b")[0].text() for n in row.find_all("a", "note")]


@pytest.fixture(scope="module")
def seed_pages(tmp_path_factory):
    """Each seed's page, written by `cardrepro report`, and its DOM as Chromium renders it."""
    folder = tmp_path_factory.mktemp("seed-reports")
    return {seed: (page, rendered(page)) for seed in SEEDS
            for page in [write_report(CARDS / f"{seed}.md", folder / f"{seed}.html")]}


@needs_browser
@pytest.mark.parametrize("seed", SEEDS)
def test_seed_report_opens_in_headless_chromium(seed_pages, seed):
    spec, report = spec_and_audit(CARDS / f"{seed}.md")
    _, dom = seed_pages[seed]
    assert dom.find_all("title")[0].text() == f"Audit of {spec['name']} — cardrepro"
    assert_self_contained(dom)
    assert_highlights(dom, spec)
    assert_findings(dom, report)
    assert dom.find_all("section", "assumptions") and dom.find_all("section", "memory")


@needs_browser
def test_memory_chart_assumptions_and_screenshot(seed_pages, tmp_path):
    """StableLM: full training, so the ZeRO chart of the build's memory.svg; the project assumes values."""
    page, dom = seed_pages["stablelm-7b-sft"]
    [chart] = dom.find_all("svg", "chart")
    assert "Per-GPU memory estimate" in chart.text() and "ZeRO-" in chart.text()
    assert len(chart.find_all("rect")) > 10
    assumed = dom.find_all("tr", "assumption")
    assert assumed and all(len(r.find_all("td")) == 3 and r.find_all("td")[2].text().strip() for r in assumed)
    screenshot(page, tmp_path / "stablelm-7b-sft.png")


@needs_browser
def test_card_text_is_never_markup(tmp_path, write_card):
    card = write_card(HOSTILE_CARD, name="hostile.md")
    spec, _ = spec_and_audit(card)
    assert spec["base_model"]["name"] == "<script>alert(1)</script>"            # a YAML value
    assert [d["name"] for d in spec["datasets"]] == ["<script>alert(6)</script>", "<img src=x onerror=alert(7)>"]
    page = write_report(card, tmp_path / "hostile.html")
    dom = rendered(page)
    assert_self_contained(dom)
    text = dom.text()
    for shown in ("# Model <script>alert(3)</script>", "trained on <img src=x onerror=alert(4)> text",
                  'base_model: "<script>alert(1)</script>"', '- "<img src=x onerror=alert(7)>"'):
        assert shown in text
    marked = {m.text() for m in dom.find_all("a", "hl")}
    assert {"<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<script>alert(6)</script>",
            "<img src=x onerror=alert(7)>"} <= marked
    assert_highlights(dom, spec)
    screenshot(page, tmp_path / "hostile.png")


def test_page_escapes_card_text_without_a_browser(tmp_path, write_card):
    card = write_card(HOSTILE_CARD, name="hostile.md")
    page = write_report(card, tmp_path / "hostile.html").read_text(encoding="utf-8")
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(3)&lt;/script&gt;" in page and "&lt;img src=x onerror=alert(4)&gt;" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_audit_format_html_is_the_report_page(tmp_path):
    card = CARDS / "bloomz-mona-lora.md"
    res = run_cli("audit", card, "--format", "html", "--fail-on", "never")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("<!DOCTYPE html>") and res.stdout.rstrip().endswith("</html>")
    assert res.stdout == write_report(card, tmp_path / "r.html").read_text(encoding="utf-8")
    out = tmp_path / "a.html"
    res = run_cli("audit", card, "--format", "html", "-o", out, "--fail-on", "warning")
    assert res.returncode == 1 and res.stdout == ""           # the card has warnings: --fail-on still decides
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_audit_html_is_one_card(tmp_path):
    res = run_cli("audit", CARDS / "bloomz-mona-lora.md", CARDS / "stablelm-7b-sft.md", "--format", "html")
    assert res.returncode == 2 and "exactly one card" in res.stderr


def test_report_bad_output_is_one_line_exit_2(tmp_path):
    res = run_cli("report", CARDS / "bloomz-mona-lora.md", "-o", tmp_path / "missing" / "r.html")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().count("\n") == 0 and "cannot write" in res.stderr
    assert not (tmp_path / "missing").exists()


def test_report_to_stdout_never_imports_torch():
    """Without -o the page goes to stdout; like parse/audit/build, the report path stays light."""
    heavy = ["torch", "transformers", "datasets", "deepspeed", "peft", "accelerate"]
    code = ("import sys\nfrom cardrepro.cli import main\n"
            f"try:\n    main(['report', {str(CARDS / 'ziya-llama-13b-v1.md')!r}])\nexcept SystemExit:\n    pass\n"
            f"print('HEAVY', sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "HEAVY []" in res.stderr, res.stderr[-2000:]
    assert res.stdout.startswith("<!DOCTYPE html>") and 'id="L1"' in res.stdout


def test_page_refuses_a_card_changed_after_parsing(write_card):
    """The highlights rest on the parsed card's line numbers: another text would misplace them."""
    from cardrepro import CardError, parse_card
    from cardrepro.report import html_report
    card = write_card(HOSTILE_CARD, name="hostile.md")
    spec = parse_card(str(card))
    card.write_text("\n" + HOSTILE_CARD, encoding="utf-8")
    with pytest.raises(CardError, match="changed after it was parsed"):
        html_report(spec)
