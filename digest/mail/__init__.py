"""Mail: MIME messages (message.py) and the transports that deliver them (transports.py)."""
