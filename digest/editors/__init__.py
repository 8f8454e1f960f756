"""Editors: accounts for the editor console, with argon2-hashed passwords."""
