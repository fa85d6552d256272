"""Literal events for the tracking tests: short names, explicit times."""

from datetime import UTC, datetime, timedelta

from hearth.tracking import Activity, IdentificationSource, Identify, PageView, utm_values

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def at(minutes: float = 0, seconds: float = 0, *, base: datetime = T0) -> datetime:
    """`base` plus some minutes and seconds."""
    return base + timedelta(minutes=minutes, seconds=seconds)


def page(
    event_id: str,
    when: datetime,
    path: str = "/",
    *,
    session: str = "s1",
    anon: str = "a1",
    query: str = "",
    title: str | None = None,
) -> PageView:
    url = f"https://acme.com{path}" + (f"?{query}" if query else "")
    return PageView(
        event_id=event_id,
        anonymous_id=anon,
        client_session_id=session,
        at=when,
        url=url,
        path=path,
        title=title,
        utm=utm_values(url),
    )


def active(
    event_id: str,
    when: datetime,
    seconds: int = 10,
    path: str = "/",
    *,
    session: str = "s1",
    anon: str = "a1",
) -> Activity:
    return Activity(
        event_id=event_id,
        anonymous_id=anon,
        client_session_id=session,
        at=when,
        url=f"https://acme.com{path}",
        path=path,
        seconds=seconds,
    )


def identify(event_id: str, when: datetime, email: str = "ann@acme.com") -> Identify:
    return Identify(
        event_id=event_id,
        anonymous_id="a1",
        client_session_id="s1",
        at=when,
        email=email,
        source=IdentificationSource.FORM,
    )
