"""Progress, rate and time left, and the choice of API for a full pass."""

from datetime import UTC, datetime, timedelta

from hearth.sync.plan import Mode, Phase, choose_mode
from hearth.sync.progress import measure

START = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


def test_rate_and_eta_come_from_what_is_done_so_far() -> None:
    p = measure(
        sobject="Account",
        phase=Phase.INITIAL,
        done=2_000,
        total=10_000,
        started_at=START,
        now=START + timedelta(seconds=4),
    )

    assert p.rate == 500.0
    assert p.eta == timedelta(seconds=16)
    assert p.fraction == 0.2


def test_unknown_totals_and_no_work_yet_have_no_eta() -> None:
    incremental = measure(
        sobject="Lead",
        phase=Phase.INCREMENTAL,
        done=10,
        total=None,
        started_at=START,
        now=START + timedelta(seconds=1),
    )
    fresh = measure(
        sobject="Lead", phase=Phase.INITIAL, done=0, total=5, started_at=START, now=START
    )

    assert (incremental.rate, incremental.eta, incremental.fraction) == (10.0, None, None)
    assert (fresh.rate, fresh.eta, fresh.fraction) == (None, None, 0.0)


def test_an_overshooting_pass_is_complete_not_more() -> None:
    p = measure(
        sobject="Lead",
        phase=Phase.INITIAL,
        done=12,
        total=10,
        started_at=START,
        now=START + timedelta(seconds=1),
    )

    assert p.fraction == 1.0
    assert p.eta == timedelta(0)


def test_bulk_only_above_the_threshold() -> None:
    assert choose_mode(10_000) is Mode.REST
    assert choose_mode(10_001) is Mode.BULK
    assert choose_mode(3, threshold=2) is Mode.BULK
