"""The API's request and response bodies (pydantic), with the limits every request is held to."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SubscriptionRequest(BaseModel):
    """A sign-up from the outlet's own form: a pending subscription and a confirmation mail."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=254, examples=["reader@example.org"])
    topics: list[Slug] = Field(min_length=1, max_length=50, examples=[["deepfakes", "ai-misuse"]])
    frequency: Literal["daily", "weekly"] | None = Field(default=None, description="Default: signup.default_frequency")
    consent_text: str = Field(
        min_length=1, max_length=2000, description="The consent wording the reader saw and agreed to."
    )
    consent_version: str | None = Field(
        default=None, max_length=64, description="The privacy-policy version shown; must be the current one."
    )


class Accepted(BaseModel):
    status: Literal["accepted"] = "accepted"
    message: str


class TopicOut(BaseModel):
    slug: str
    name: str
    description: str
    stories: int


class SourceOut(BaseModel):
    feed_url: str
    feed_title: str | None
    guid: str | None
    link: str | None


class EventOut(BaseModel):
    event: str = Field(description="Stories with the same key report the same development.")
    thread: str = Field(description="Events with the same key are developments of one case.")


class StoryOut(BaseModel):
    id: int
    title: str
    link: str | None
    published: str
    published_guessed: bool
    first_seen: str
    author: str | None
    summary: str
    topics: list[str]
    why: dict[str, list[str]]
    sources: list[SourceOut]
    event: EventOut | None


class StoriesPage(BaseModel):
    stories: list[StoryOut]
    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page; null on the last page.")


class FeedOut(BaseModel):
    id: int
    url: str
    title: str | None
    status: str
    error_count: int
    last_error: str | None
    last_polled: str | None
    last_success: str | None
    next_poll: str | None
    stories: int


class EditionOut(BaseModel):
    edition: str
    frequency: str
    state: str
    deliveries: dict[str, int] = Field(description="Deliveries by state (queued, sending, sent, failed, ...).")
    total: int


class SubscriberChange(BaseModel):
    email: str
    status: str


Export = dict[str, Any]
