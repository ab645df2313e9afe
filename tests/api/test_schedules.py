"""POST /schedule/describe: a cron in words with its next run times; a Viewer may ask."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from databridge.views.schedules import describe_schedule
from tests.api.conftest import Api, assert_error

pytestmark = pytest.mark.e2e


def describe(api: Api, user: str | None = "admin", **body: Any) -> Any:
    return api.call("POST", "/schedule/describe", user=user, json=body)


def test_anonymous_calls_are_refused(api: Api) -> None:
    assert_error(describe(api, user=None, cron="@daily"), 401, "AUTH_ERROR", "not authenticated")


def test_a_viewer_gets_the_cron_in_words_and_its_next_runs(api: Api) -> None:
    response = describe(api, user="viewer", cron="30 3 * * 1-5", timezone="Europe/Paris", count=4)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] == "At 03:30, Monday through Friday"
    runs = [dt.datetime.fromisoformat(r) for r in body["next_runs"]]
    assert len(runs) == 4 and runs == sorted(runs) and runs[0] > dt.datetime.now(dt.UTC)
    assert all(
        (r.hour, r.minute, r.weekday() < 5) == (3, 30, True)
        and r.utcoffset() in (dt.timedelta(hours=1), dt.timedelta(hours=2))
        for r in runs
    )


def test_presets_and_no_schedule(api: Api) -> None:
    daily = describe(api, cron="@daily", count=2).json()
    assert daily["description"] == "At 00:00 (@daily)" and len(daily["next_runs"]) == 2
    assert describe(api, cron=None).json() == {
        "cron": None,
        "timezone": "UTC",
        "description": "Only when triggered",
        "next_runs": [],
    }
    assert describe(api, cron="@once").json()["next_runs"] == []


def test_next_runs_follow_the_time_zone_across_a_dst_change() -> None:
    now = dt.datetime(2026, 3, 28, 12, tzinfo=dt.UTC)
    runs = describe_schedule("0 3 * * *", "Europe/Paris", 2, now)["next_runs"]
    assert runs == ["2026-03-29T03:00:00+02:00", "2026-03-30T03:00:00+02:00"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"cron": "0 3 * *"}, "schedule.cron: '0 3 * *' is not a cron expression; write five fields like '0 3 * * *'"),
        ({"cron": "@dayly"}, "(did you mean '@daily'?)"),
        (
            {"cron": "@daily", "timezone": "Europe/Pari"},
            "schedule.timezone: unknown time zone 'Europe/Pari' (did you mean 'Europe/Paris'?)",
        ),
        ({"cron": "@daily", "count": 0}, "count"),
    ],
)
def test_a_bad_cron_time_zone_or_count_is_refused(api: Api, body: dict[str, Any], words: str) -> None:
    assert_error(describe(api, **body), 422, "VALIDATION_ERROR", words)
