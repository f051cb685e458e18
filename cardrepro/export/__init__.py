"""`cardrepro export`: a card's spec as an Axolotl, LLaMA-Factory or TRL training config."""
import importlib

TARGETS = ("axolotl", "llamafactory", "trl")


def export_spec(spec, target, stem):
    """(config text, side files {name: text}, cannot [str]) for a parsed spec."""
    return importlib.import_module(f"cardrepro.export.{target}").export(spec, stem)
