"""Package versions the card states, as `environment.<package>` (names through data/keys.yaml
`packages`):

- the HF auto-card framework list: `- PEFT 0.15.2`, `- TRL: 0.27.1`, `- Pytorch 2.1.2+cu118`;
- Axolotl's config header: axolotl version: `0.4.0`;
- requirement pins anywhere (`transformers==4.25.1`, `pip install deepspeed==0.9.2`).

A minimum (`torch>=1.13`) states no version. A package the card pins to two versions (install
commands for two CUDA builds) is left out: which one holds, the card does not say.

`read(doc)` is pure: candidates (path, value, line, text, source); `extract` puts them."""
import functools
import re

from cardrepro.extract import canonical
from cardrepro.extract.util import search_lines

_VERSION = r"v?(?P<version>\d+(?:\.\d+)+[\w.+\-]*)"


@functools.lru_cache(maxsize=None)
def _patterns():
    names = "|".join(re.escape(n) for n in sorted(canonical.package_names(), key=len, reverse=True))
    return (
        (re.compile(rf"(?im)^\s*[-*]?\s*(?P<name>{names})\s*:?\s+{_VERSION}"), None),
        (re.compile(rf"(?i)(?<![\w.\-/])(?P<name>{names})\s+version\s*[:：]?\s*`?{_VERSION}`?"), "version"),
        (re.compile(rf"(?i)(?<![\w.\-/])(?P<name>{names})\s*==\s*{_VERSION}"), "=="),
    )


def read(doc):
    found = {}  # path -> [candidate]
    for pattern, needle in _patterns():
        for no, _, m in search_lines(doc, pattern, needle):
            path = f"environment.{canonical.package(m.group('name'))}"
            found.setdefault(path, []).append((path, m.group("version"), no, m.group(0).strip(), None))
    return [c[0] for c in found.values() if len({x[1] for x in c}) == 1]


def extract(doc, facts):
    for path, value, line, text, _ in read(doc):
        facts.put(path, value, line)
