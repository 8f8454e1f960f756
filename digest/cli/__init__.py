"""The command line: loads settings at the edge and wires the domains together; no business logic."""
