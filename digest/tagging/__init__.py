"""Topic tagging: editable rules (rules.py) and the pure tagger that applies them (tagger.py)."""
