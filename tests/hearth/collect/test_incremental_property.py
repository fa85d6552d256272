"""Whatever batches the events arrive in (any order, copies, late events filling gaps, two tabs,
midnight), the aggregates `ingest` keeps incrementally equal a recompute from the stored events,
after every batch, on both databases."""

import uuid
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from hearth.collect.ingest import ingest, load_aggregate, recompute_visitor
from hearth.collect.tables import visitors
from hearth.tracking import Event, ParsedBatch
from tests.hearth.tracking.test_properties import streams

from .conftest import add_workspace


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(stream=streams(moved=True), data=st.data())
def test_stored_aggregates_equal_a_recompute_after_every_batch(
    engine: Engine, stream: tuple[list[Event], list[Event]], data: st.DataObject
) -> None:
    _, delivered = stream
    workspace_id, _ = add_workspace(engine, f"w {uuid.uuid4().hex}")
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, len(delivered) - 1)), max_size=6)))
    batches = [delivered[a:b] for a, b in zip([0, *cuts], [*cuts, len(delivered)], strict=True)]
    with Session(engine) as session, session.begin():
        for events in filter(None, batches):
            received = max(e.at for e in events) + timedelta(seconds=1)
            batch = ParsedBatch(
                site_key="site_test",
                anonymous_id=events[0].anonymous_id,
                client_session_id=events[0].client_session_id,
                received_at=received,
                clock_offset=timedelta(0),
                events=tuple(events),
                rejected=(),
            )
            visitor_id = ingest(session, workspace_id, batch).visitor_id
            assert load_aggregate(session, visitor_id) == recompute_visitor(session, visitor_id)
        ids = session.scalars(
            select(visitors.c.id).where(visitors.c.workspace_id == workspace_id)
        ).all()
        assert len(ids) <= 1
