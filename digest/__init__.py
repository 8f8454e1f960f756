"""digest: topic digests of cybersecurity-law news, sent only to readers who asked for them."""

__version__ = "0.1.0"
