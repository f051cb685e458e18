"""cardrepro.memo: bounded memos across cards, all cleared by one call."""
from cardrepro import memo


def test_memo_is_bounded_and_cleared():
    calls = []

    @memo.memo(maxsize=2)
    def upper(text):
        calls.append(text)
        return text.upper()

    assert [upper("a"), upper("a"), upper("b"), upper("c"), upper("a")] == ["A", "A", "B", "C", "A"]
    assert calls == ["a", "b", "c", "a"]  # "a" was evicted by "b" and "c" (maxsize 2)
    assert memo.sizes()[f"{__name__}.test_memo_is_bounded_and_cleared.<locals>.upper"] == 2
    memo.clear()
    assert upper.cache_info().currsize == 0
    upper("a")
    assert calls[-1] == "a" and len(calls) == 5
