"""The client's own tests: what it sends and how it reads answers, without a server (the
end-to-end tests against a running service are the project's tests/test_client.py)."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from getstar_client._core import RetryPolicy, angle_text, radius_text, retry_after, targets_csv, xmatch_call
from getstar_client.errors import Ambiguous, BadRequest, GetStarError, NotFound, Unavailable, error_for

NOW = datetime(2026, 12, 2, 12, 0, 0, tzinfo=timezone.utc)

#: Error documents as the service writes them (problem JSON, a VOTable INFO, GetStar's page).
PROBLEM_503 = (b'{"type":"urn:getstar:error:service-unavailable","title":"Service unavailable","status":503,'
               b'"detail":"the database is not reachable","retry_after":5,"service_version":"0.1.0"}')
PROBLEM_404 = (b'{"type":"urn:getstar:error:star-not-found","title":"Not found","status":404,'
               b'"detail":"star \'Siriuss\' not found","suggestions":["NAME Sirius","* alf CMa"]}')
SCS_ERROR = (b'<VOTABLE version="1.1"><INFO name="Error" value="SR must be at most 1 deg, got 2"/>'
             b'<RESOURCE type="results"><INFO name="QUERY_STATUS" value="ERROR">SR must be at most 1 deg, '
             b'got 2</INFO></RESOURCE></VOTABLE>')


@pytest.mark.parametrize(("header", "seconds"), [
    ("5", 5.0), (" 2.5 ", 2.5), ("-3", 0.0), ("", None), (None, None), ("soon", None),
    ("Wed, 02 Dec 2026 12:00:30 GMT", 30.0), ("Wed, 02 Dec 2026 11:59:00 GMT", 0.0),
])
def test_retry_after_reads_seconds_and_http_dates(header: str | None, seconds: float | None) -> None:
    assert retry_after(header, now=NOW) == seconds


def test_retries_are_bounded_and_follow_retry_after() -> None:
    policy = RetryPolicy(retries=2, max_wait=10.0)
    busy = httpx.Response(503, headers={"Retry-After": "120"})
    assert policy.delay(0, busy) == 10.0  # capped by max_wait
    assert policy.delay(2, busy) is None  # out of retries
    assert policy.delay(0, httpx.Response(404)) is None  # a final answer
    backoff = [policy.delay(a, None) for a in range(2)]  # connection failures: growing pauses
    assert backoff[0] is not None and backoff[1] is not None and 0 < backoff[0] < backoff[1]


def test_radius_and_angles_in_the_services_words() -> None:
    assert radius_text(2) == "2.0arcsec" and radius_text(0.01, "deg") == "0.01deg"
    assert radius_text(" 3arcmin ") == "3arcmin"
    assert angle_text("06 45 08.9") == "06 45 08.9" and angle_text(101) == "101.0"
    units = pytest.importorskip("astropy.units")
    assert radius_text(1 * units.arcmin) == "60.0arcsec"
    assert float(angle_text(1 * units.hourangle)) == pytest.approx(15.0)


def test_targets_become_csv_with_every_column_and_empty_cells() -> None:
    body = targets_csv([{"name": "Sirius"}, {"ra": 101.28, "dec": -16.7, "note": 'a "quoted", text'},
                        {"name": None, "ra": float("nan")}])
    assert body.decode().splitlines() == ["name,ra,dec,note", "Sirius,,,", ',101.28,-16.7,"a ""quoted"", text"',
                                          ",,,"]
    with pytest.raises(ValueError):
        targets_csv([])
    with pytest.raises(TypeError):
        targets_csv(["Sirius"])


def test_xmatch_call_posts_csv() -> None:
    call = xmatch_call([{"name": "Vega"}], 3, None, "json")
    assert call.method == "POST" and call.path == "/v1/xmatch"
    assert ("radius", "3.0arcsec") in call.params and call.content == b"name\nVega\n"


@pytest.mark.parametrize(("status", "ctype", "body", "cls", "detail"), [
    (503, "application/problem+json", PROBLEM_503, Unavailable, "the database is not reachable"),
    (404, "application/problem+json", PROBLEM_404, NotFound, "star 'Siriuss' not found"),
    (200, "text/xml", SCS_ERROR, GetStarError, "SR must be at most 1 deg, got 2"),
    (400, "text/plain", b"bad ra", BadRequest, "bad ra"),
    (409, "application/json", b"not json", Ambiguous, "not json"),
])
def test_error_answers_become_named_exceptions(status: int, ctype: str, body: bytes, cls: type, detail: str) -> None:
    err = error_for(status, ctype, body)
    assert type(err) is cls and err.status == status and err.detail == detail


def test_problem_fields_are_kept() -> None:
    assert error_for(404, "application/problem+json", PROBLEM_404).suggestions == ["NAME Sirius", "* alf CMa"]
    assert error_for(503, "application/problem+json", PROBLEM_503).retry_after == 5
