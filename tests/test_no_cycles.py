"""A card's objects are freed when the card is done, by reference counting: nothing the reader,
the extractors or the audit keep of a card may form a reference cycle. A cycle through the
Document (a derived view that holds the document, an error that holds the frames it was raised
in, a closure that calls itself) made a card's whole object graph, its Lines and AST nodes,
wait for the cyclic collector, which then walked it: 620 young collections per 1,717 corpus
cards instead of 93."""
import gc
from pathlib import Path

from conftest import CARDS, HUB_CORPUS

from cardrepro.coverage import card_row

# one card with each former cause: a Python block that does not parse (the SyntaxError kept),
# a method sentence (the sentences view), keyword values that are constants and names
CAUSES = """---
base_model: mistralai/Mistral-7B-v0.1
---
We fine-tuned the model with LoRA on our own data.

```python
from transformers import TrainingArguments
args = TrainingArguments(learning_rate=2e-4, num_train_epochs=3, output_dir=out_dir)
```

```python
def broken(:
  pass
```
"""


def _cyclic_garbage(run):
    """Objects that only the cyclic collector would free after RUN, by type name."""
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        run()
        gc.collect()
        found = [type(o).__name__ for o in gc.garbage]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.collect()
        if was:
            gc.enable()
    return found


def test_a_card_with_each_former_cause_leaves_no_cycle():
    row = {}
    found = _cyclic_garbage(lambda: row.update(card_row(CAUSES, "causes")))
    assert row["outcome"] == "parsed", row
    assert not [t for t in found if t in ("Document", "Line", "Block", "frame", "Module", "SyntaxError")], found


def test_seed_and_corpus_cards_leave_no_cycle_holding_a_card():
    paths = sorted(CARDS.glob("*.md")) + sorted(HUB_CORPUS.glob("*.md"))[::40]
    card_row(paths[0], "warm-up")  # first-use caches are not a card's objects
    found = _cyclic_garbage(lambda: [card_row(p, p.stem) for p in paths])
    held = {t for t in found if t in ("Document", "Line", "Block", "frame", "Fact", "Module")}
    assert not held, f"cycles hold {sorted(held)} after {len(paths)} cards"
