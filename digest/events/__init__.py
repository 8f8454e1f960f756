"""Grouping stories into events (one development reported by several outlets) and events into threads."""
