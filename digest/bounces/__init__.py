"""What comes back after sending: bounces and complaints, read from every source, classified and acted on.

sources (files, LMTP, IMAP, webhooks) -> parse -> classify -> act (suppress, count, unsubscribe) -> store
"""
