"""The progress reporter of long stages: time-based throttling (an injected clock), rate and ETA maths, log lines,
and the terminal bar."""

from __future__ import annotations

import io
import logging

import pytest

from databridge.runtime.progress import Progress, Snapshot, TerminalBar, duration, eta


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def reporter(caplog: pytest.LogCaptureFixture, clock: Clock, **kwargs: object) -> tuple[Progress, list[Snapshot]]:
    recorded: list[Snapshot] = []
    log = logging.getLogger("test.progress")
    caplog.set_level(logging.INFO, logger="test.progress")
    return Progress(log, "extract", "shop.orders", clock=clock, record=recorded.append, **kwargs), recorded  # type: ignore[arg-type]


def test_reports_at_most_once_per_interval_however_many_batches(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress, recorded = reporter(caplog, clock, total=10_000, interval=5.0)
    assert [(s.rows, s.done) for s in recorded] == [(0, False)]  # the table's row exists from the start
    for _ in range(40):  # 40 batches in 4 seconds: no report
        clock.now += 0.1
        progress.add(100)
    assert progress.lines == 0 and len(recorded) == 1 and not caplog.records
    clock.now += 1.0  # 5 s after the start
    progress.add(100)
    assert progress.lines == 1 and len(recorded) == 2 and recorded[-1].rows == 4_100
    for _ in range(49):  # 4.9 s more in small batches: still one line
        clock.now += 0.1
        progress.add(10)
    assert progress.lines == 1
    clock.now += 0.1
    progress.add(10)
    assert progress.lines == 2 and [r.getMessage() for r in caplog.records][1].startswith(
        "extract shop.orders: 4,600 of ~10,000 rows (46%)"
    )


def test_rate_and_eta_use_this_attempts_rows_and_the_estimate(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress, recorded = reporter(caplog, clock, total=1_000_000, interval=2.0, done_before=200_000)
    clock.now += 4.0
    progress.add(100_000)  # 100,000 rows in 4 s by this attempt: 25,000 rows/s; 700,000 left: 28 s
    snap = recorded[-1]
    assert (snap.rows, snap.rows_per_second, snap.eta_seconds) == (300_000, 25_000.0, 28.0)
    assert (
        caplog.records[-1].getMessage()
        == "extract shop.orders: 300,000 of ~1,000,000 rows (30%), 25,000 rows/s, ETA 28s"
    )
    clock.now += 1.0
    final = progress.finish(320_000)
    assert final.done and final.eta_seconds is None and final.rows == 320_000 and recorded[-1] is final
    assert final.rows_per_second == 24_000.0


def test_no_estimate_no_eta_and_a_low_estimate_never_goes_negative(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    progress, recorded = reporter(caplog, clock, interval=1.0)
    clock.now += 2.0
    progress.add(5_000)
    assert recorded[-1].total is None and recorded[-1].eta_seconds is None
    assert caplog.records[-1].getMessage() == "extract shop.orders: 5,000 rows, 2,500 rows/s"
    assert eta(1_500, 1_000, 100.0) is None  # more rows than the catalog guessed: no ETA rather than a wrong one
    assert eta(500, 1_000, 0.0) is None
    assert eta(500, 1_000, 50.0) == 10.0
    assert (
        Progress(logging.getLogger("x"), "load_facts", "t", total=-1, clock=clock).total is None
    )  # PostgreSQL's "never analysed"


def test_durations_read_as_a_person_would() -> None:
    assert [duration(s) for s in (0.4, 49, 185, 7620)] == ["0s", "49s", "3m05s", "2h07m"]


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_a_redrawn_bar_and_a_pipe_gets_nothing() -> None:
    snap = Snapshot("extract", "shop.orders", 0, 450, 1_000, 90.0, 6.1, False)
    tty = Tty()
    bar = TerminalBar.on(tty, width=80)
    assert bar is not None
    bar(snap)
    bar(Snapshot("extract", "shop.orders", 0, 1_000, 1_000, 100.0, None, True))
    out = tty.getvalue()
    assert out.startswith("\r") and "45%" in out and "ETA 6s" in out and "100%" in out and out.endswith("\n")
    first = out.split("\r")[1]
    assert len(first) <= 80 and "[" in first and "#" in first
    assert TerminalBar.on(io.StringIO()) is None  # not a terminal: the log lines alone
