"""The sender's health as mailbox providers judge it: bounce and complaint rates of the last editions.

Gmail and Yahoo's bulk-sender rules (2024) want spam complaints below 0.3 % of delivered mail; hosted
senders review accounts whose bounces pass a few percent (2 % here). Each edition's rates are set
against those thresholds, and flagged when over, so editors see trouble before a provider acts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from digest.bounces import store

COMPLAINT_THRESHOLD = 0.003
BOUNCE_THRESHOLD = 0.02
EDITIONS_SHOWN = 10


@dataclass(frozen=True, slots=True)
class EditionHealth:
    edition: str
    sent: int
    bounced: int
    complained: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complained / self.sent if self.sent else 0.0

    @property
    def bounces_over(self) -> bool:
        return self.bounce_rate >= BOUNCE_THRESHOLD and self.bounced > 0

    @property
    def complaints_over(self) -> bool:
        return self.complaint_rate >= COMPLAINT_THRESHOLD and self.complained > 0


def sending_health(session: Session, limit: int = EDITIONS_SHOWN) -> list[EditionHealth]:
    """The editions most recently sent, newest first, with their bounce and complaint counts."""
    editions = store.recent_editions(session, limit)
    counts = store.counts_by_edition(session, editions)
    return [EditionHealth(e, counts[e]["sent"], counts[e]["bounced"], counts[e]["complained"]) for e in editions]


def edition_counts(session: Session, editions: list[str]) -> dict[str, dict[str, int]]:
    """Bounced and complained deliveries per edition (for the deliveries view)."""
    return store.counts_by_edition(session, editions)
