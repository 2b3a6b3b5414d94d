"""The one place that commits (after GlobaLeaks' `transact`): a unit of work commits once when
its block ends normally, rolls back if it raises, and then runs what the block asked for with
`after_commit` (sending what it queued, which must see committed rows)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy.orm import Session

_AFTER_COMMIT = "intake.after_commit"


@contextmanager
def unit_of_work(session: Session) -> Iterator[Session]:
    try:
        yield session
        session.commit()
    except BaseException:
        session.info.pop(_AFTER_COMMIT, None)
        session.rollback()
        raise
    for action in session.info.pop(_AFTER_COMMIT, []):
        action()


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once the current unit of work has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)
