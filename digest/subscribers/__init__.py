"""Subscribers: who asked for what, their consent, signed links, and their rights (export, erase)."""
