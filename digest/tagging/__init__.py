"""Topic tagging: editable rules (rules.py) of phrases (phrases.py), the index that finds them in a
text (index.py), and the pure tagger that applies them (tagger.py)."""
