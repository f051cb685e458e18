"""`cardrepro export`: a card's spec as an Axolotl, LLaMA-Factory or TRL training config."""
