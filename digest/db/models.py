"""One place that knows every domain's models, so Alembic and tests see the whole schema."""

from __future__ import annotations


def import_all_models() -> None:
    import digest.api_tokens.models
    import digest.bounces.models
    import digest.db.scheduler_table
    import digest.digests.archive_models
    import digest.digests.edition_models
    import digest.editors.models
    import digest.events.models
    import digest.feeds.models
    import digest.mail.models
    import digest.monitoring.models
    import digest.subscribers.models  # noqa: F401
