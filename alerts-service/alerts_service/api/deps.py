"""Dependencies of the alerts API: the service's wiring, kept on the app state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import sessionmaker

from alerts_service.settings import AlertsSettings
from shared.outbox import UnitOfWork


@dataclass
class AlertsWiring:
    sessions: sessionmaker
    unit_of_work: Callable[[], UnitOfWork]
    settings: AlertsSettings
    wake_delivery: Callable[[], None]


def get_wiring(request: Request) -> AlertsWiring:
    return request.app.state.alerts


Wiring = Annotated[AlertsWiring, Depends(get_wiring)]
