"""Event hooks: a lower addon announces an event, higher addons subscribe in AppConfig.ready().

Explicit registration, called synchronously in the caller's transaction; not Django signals."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_subscribers: dict[str, list[Callable[..., object]]] = defaultdict(list)


def hook_subscribe(event: str, handler: Callable[..., object]) -> None:
    if handler not in _subscribers[event]:
        _subscribers[event].append(handler)


def hook_fire(event: str, **payload: object) -> None:
    for handler in list(_subscribers[event]):
        handler(**payload)


def hook_collect(event: str, **payload: object) -> list[Any]:  # each event says what its answers are
    """Ask the subscribers (a higher addon's answer to a lower one's question, e.g. which layout
    and links the card-payment return page shows): their answers, ``None`` ones left out."""
    answers = (handler(**payload) for handler in list(_subscribers[event]))
    return [answer for answer in answers if answer is not None]
