"""The web app: sign-up, confirmation, preferences, unsubscribe and privacy pages (create_app)."""
