"""API tokens: named bearer tokens with a scope, for the JSON API (issued by ``digest tokens``)."""
