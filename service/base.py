"""What every use case works on, and how one says no."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from core.settings import Settings
from core.subscriptions import SubscriptionBook
from storage.db import Database


@dataclass(frozen=True)
class Backend:
    """The database, the live keyword index, the operator's limits and the clock: built once by
    app.bootstrap and passed to every use case (chat handlers, the Mini App and the CLI alike)."""

    db: Database
    book: SubscriptionBook
    settings: Settings
    clock: Callable[[], float]


@dataclass(frozen=True)
class Refusal:
    """Why a use case did nothing: a message catalog id and its parameters. Each entry point says
    it its own way (a reply, a button's pop-up, a JSON error), always from the same text."""

    message_id: str
    params: Mapping[str, object] = field(default_factory=dict)
