"""cardrepro.memo: bounded memos across cards, all cleared by one call."""
import pytest

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


@pytest.mark.parametrize("enabled", [True, False])
def test_a_card_is_parsed_and_audited_with_the_collector_paused_and_left_as_found(tmp_path, monkeypatch, enabled):
    import gc

    from cardrepro import audit, spec as spec_module
    from cardrepro.errors import CardError

    during = []

    def watching(fn):
        def run(*args, **kwargs):
            during.append(gc.isenabled())
            return fn(*args, **kwargs)
        return run
    monkeypatch.setattr(spec_module.validate, "check", watching(spec_module.validate.check))
    monkeypatch.setattr(audit, "context", watching(audit.context))
    card, empty = tmp_path / "card.md", tmp_path / "empty.md"
    card.write_text("---\nlicense: mit\n---\n# Model\n\nWe trained for 3 epochs with a learning rate of 2e-4.\n",
                    encoding="utf-8")
    empty.write_text("  \n", encoding="utf-8")
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        spec = spec_module.parse_card(card)
        audit.audit_spec(spec), audit.audit_report(spec), audit.codes_and_score(spec)
        assert spec["training"]["num_train_epochs"] == 3
        assert during == [False] * 4  # validate.check in parse_card, then each audit's context
        with pytest.raises(CardError):
            spec_module.parse_card(empty)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
