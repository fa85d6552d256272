"""Two tabs of a new visitor report at the same moment: both batches are stored, for one
visitor, on both databases."""

import threading
from datetime import UTC, datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from hearth.collect.ingest import IngestResult
from hearth.collect.tables import tracked_events, visitor_aliases, visitors
from tests.hearth.wire import MINUTE, ms, page

from .conftest import add_workspace, ingest_at


def test_concurrent_first_batches_of_a_new_visitor_are_both_stored(engine: Engine) -> None:
    workspace_id, _ = add_workspace(engine, "Acme")
    now = datetime.now(UTC)
    start = threading.Barrier(2)
    results: list[IngestResult] = []
    errors: list[BaseException] = []

    def tab(path: str) -> None:
        try:
            start.wait()
            with Session(engine) as session, session.begin():
                results.append(
                    ingest_at(session, workspace_id, now, [page(ms(now) - MINUTE, path)])
                )
        except BaseException as exc:  # the assertion below shows it
            errors.append(exc)

    for _ in range(5):
        threads = [threading.Thread(target=tab, args=(f"/{n}",)) for n in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert errors == []
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(visitors)) == 1
        assert session.scalar(select(func.count()).select_from(visitor_aliases)) == 1
        assert session.scalar(select(func.count()).select_from(tracked_events)) == 10
    assert len({r.visitor_id for r in results}) == 1
