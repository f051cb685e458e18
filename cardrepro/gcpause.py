"""The cyclic garbage collector paused for the work on one card.

A card's Lines, AST nodes, YAML values, facts and findings are thousands of new objects that live
until the card is done; each young collection on the way walks them again and moves them to older
generations, whose collections walk every object alive (the memos' entries too). Reference
counting frees nearly all of them when the card is done; what a cycle holds is collected after
(the collector's counts go on while it is paused, so the next allocation after the card may
collect). A card's work is bounded in size (read/source.py's limits), so is what waits. Measured
on parse + audit over every 3rd Hub corpus card: 1.04x in fresh processes side by side
(bench/ab.py, 4 rounds, each faster), 1.08-1.20x for passes alternating in one process (read
alone was paused before)."""
import functools
import gc


def paused(fn):
    """FN run with the collector paused, and left as it was found (a nested call changes nothing)."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        if not gc.isenabled():
            return fn(*args, **kwargs)
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            gc.enable()
    return run
