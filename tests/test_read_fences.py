"""Where code fences are is worked out once, by the reader (Document.fences), and every reader
asks it. A fence closed after code on the same line (`\"\"\"```` in the RedPajama-INCITE cards)
ends there: before, the list reader kept its own count of fence lines, took everything after
that line for code, and read none of the card's training list."""
from conftest import parsed

from cardrepro.read import read_card

# togethercomputer_RedPajama-INCITE-7B-Base: a docstring closed with the fence on its line
CARD = """# RedPajama

```python
outputs = model.generate(**inputs, max_new_tokens=128, do_sample=True, temperature=0.7)
print(output_str)
\"\"\"
widely considered to be the father of modern computer science.
\"\"\"```

## CPU Inference

```python
print(output_str)
```

**Training Procedure**

- **Optimizer:** Apex FusedAdam
- **Learning rate:** 0.00012
"""


def test_the_reader_closes_a_fence_after_code_on_its_line(tmp_path):
    path = tmp_path / "card.md"
    path.write_text(CARD)
    doc = read_card(path)
    numbers = [(doc.lines[a].no, doc.lines[b].no if b is not None else None) for a, b in doc.fences]
    assert numbers == [(3, 8), (12, 14)]
    assert [b.kind for b in doc.blocks].count("python") == 2


def test_the_training_list_after_it_is_read(write_card):
    spec = parsed(write_card(CARD))
    assert spec["training"]["learning_rate"] == 0.00012
    assert spec["generation"]["temperature"] == 0.7


def test_a_fence_left_open_runs_to_the_end(tmp_path):
    path = tmp_path / "card.md"
    path.write_text("# A card\n\n```\n- learning_rate: 0.1\n")
    doc = read_card(path)
    assert [(doc.lines[a].no, b) for a, b in doc.fences] == [(3, None)]
