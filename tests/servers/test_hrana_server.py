"""The Hrana test server speaks the real protocol: clients nobody here wrote
work against it, and it answers as sqld does where the spec leaves room."""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import libsql
import pytest

from servers.launch import SERVERS, hrana_server

TOKEN = "test-token"


@pytest.fixture
def url() -> Iterator[str]:
    with hrana_server("--auth-token", TOKEN) as base:
        yield base


def post(url: str, path: str, body: Any, token: str | None = TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            status = response.status
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        status = error.code
    try:
        return status, json.loads(text) if "\n" not in text.strip() else [
            json.loads(line) for line in text.splitlines()
        ]
    except json.JSONDecodeError:
        return status, text


def execute(sql: str, *args: Any) -> dict[str, Any]:
    return {"type": "execute", "stmt": {"sql": sql, "args": list(args)}}


# -- clients nobody here wrote ------------------------------------------------


def test_the_official_python_client_executes_and_runs_transactions_against_it(url: str) -> None:
    connection = libsql.connect(url, auth_token=TOKEN)
    connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT UNIQUE)")
    connection.executemany("INSERT INTO t (x) VALUES (?)", [("a",), ("b",)])
    connection.commit()
    assert connection.execute("SELECT id, x FROM t ORDER BY id").fetchall() == [(1, "a"), (2, "b")]
    connection.execute("INSERT INTO t (x) VALUES ('rolled back')")
    connection.rollback()
    assert connection.execute("SELECT count(*) FROM t").fetchall() == [(2,)]
    with pytest.raises(ValueError, match="SQLITE_CONSTRAINT_UNIQUE"):
        connection.execute("INSERT INTO t (x) VALUES ('a')")


def test_the_official_javascript_client_runs_batches_and_transactions_against_it(url: str) -> None:
    node = shutil.which("node")
    assert node is not None, "node is needed for the JavaScript reference client"
    completed = subprocess.run(
        [node, str(SERVERS / "reference_client.mjs"), url, TOKEN], capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {
        "batch": [[1, "first"], [2, "second"]],
        "insideTransaction": 3,
        "afterTransactions": ["first", "second", "third"],
        "big": str(2**62 + 3),
        "constraint": "SQLITE_CONSTRAINT_UNIQUE",
    }


# -- the protocol as sqld answers it -------------------------------------------


def test_a_stream_gets_a_new_baton_per_request_and_a_used_one_is_refused(url: str) -> None:
    status, first = post(url, "/v3/pipeline", {"baton": None, "requests": [execute("BEGIN")]})
    assert status == 200 and first["baton"]
    status, second = post(url, "/v3/pipeline", {"baton": first["baton"], "requests": [{"type": "get_autocommit"}]})
    assert status == 200 and second["baton"] != first["baton"]
    assert second["results"][0]["response"] == {"type": "get_autocommit", "is_autocommit": False}
    status, stale = post(url, "/v3/pipeline", {"baton": first["baton"], "requests": []})
    assert (status, stale["message"]) == (400, "Received an invalid baton")
    status, closed = post(url, "/v3/pipeline", {"baton": second["baton"], "requests": [{"type": "close"}]})
    assert status == 200 and closed["baton"] is None


def test_an_idle_stream_expires_with_sqlds_error() -> None:
    with hrana_server("--stream-expiry", "0") as base:
        _, first = post(base, "/v3/pipeline", {"baton": None, "requests": [execute("SELECT 1")]}, token=None)
        status, expired = post(base, "/v3/pipeline", {"baton": first["baton"], "requests": []}, token=None)
    assert status == 400
    assert expired == {"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"}


def test_an_abandoned_stream_expires_on_a_timer_and_its_transaction_stops_holding_the_write_lock() -> None:
    with hrana_server("--stream-expiry", "0.2") as base:
        post(base, "/v3/pipeline", {"baton": None, "requests": [execute("CREATE TABLE t (x)")]}, token=None)
        abandoned = [execute("BEGIN IMMEDIATE"), execute("INSERT INTO t VALUES (1)")]
        post(base, "/v3/pipeline", {"baton": None, "requests": abandoned}, token=None)
        # Waits on the abandoned stream's lock (the server's busy timeout is
        # 5 s) until the timer closes that stream, which rolls it back.
        status, answer = post(
            base,
            "/v3/pipeline",
            {"baton": None, "requests": [execute("INSERT INTO t VALUES (2)"), execute("SELECT x FROM t")]},
            token=None,
        )
    assert status == 200, answer
    assert answer["results"][1]["response"]["result"]["rows"] == [[{"type": "integer", "value": "2"}]]


def test_a_missing_or_wrong_token_is_refused_with_401(url: str) -> None:
    assert post(url, "/v3/pipeline", {"baton": None, "requests": []}, token=None)[0] == 401
    assert post(url, "/v3/pipeline", {"baton": None, "requests": []}, token="wrong")[0] == 401


def test_sql_errors_arrive_inside_results_with_http_200_and_values_as_the_spec_encodes_them(url: str) -> None:
    status, answer = post(
        url,
        "/v3/pipeline",
        {
            "baton": None,
            "requests": [
                execute("SELECT * FROM nope"),
                execute("SELECT ?, 1.5, x'00ff', NULL", {"type": "integer", "value": str(2**62 + 3)}),
                {"type": "close"},
            ],
        },
    )
    assert status == 200
    error, ok, _ = answer["results"]
    assert error == {
        "type": "error",
        "error": {"message": "SQLite error: no such table: nope", "code": "SQLITE_UNKNOWN"},
    }
    assert ok["response"]["result"]["rows"] == [
        [
            {"type": "integer", "value": str(2**62 + 3)},
            {"type": "float", "value": 1.5},
            {"type": "blob", "base64": "AP8="},
            {"type": "null"},
        ]
    ]


def test_batch_conditions_sequence_stored_sql_and_describe(url: str) -> None:
    batch = {
        "steps": [
            {"stmt": {"sql": "CREATE TABLE t (x UNIQUE)"}},
            {"condition": {"type": "ok", "step": 0}, "stmt": {"sql": "INSERT INTO t VALUES (1)"}},
            {"condition": {"type": "ok", "step": 1}, "stmt": {"sql": "INSERT INTO t VALUES (1)"}},
            {"condition": {"type": "error", "step": 2}, "stmt": {"sql": "INSERT INTO t VALUES (2)"}},
            {"condition": {"type": "not", "cond": {"type": "is_autocommit"}}, "stmt": {"sql": "SELECT 'skipped'"}},
        ]
    }
    _, answer = post(
        url,
        "/v3/pipeline",
        {
            "baton": None,
            "requests": [
                {"type": "batch", "batch": batch},
                {"type": "sequence", "sql": "INSERT INTO t VALUES (3); INSERT INTO t VALUES (4);"},
                {"type": "store_sql", "sql_id": 7, "sql": "SELECT count(*) FROM t WHERE x > ?"},
                {"type": "execute", "stmt": {"sql_id": 7, "args": [{"type": "integer", "value": "1"}]}},
                {"type": "describe", "sql": "SELECT x AS ex FROM t WHERE x = :x"},
                {"type": "close"},
            ],
        },
    )
    result = answer["results"][0]["response"]["result"]
    assert [step is not None for step in result["step_results"]] == [True, True, False, True, False]
    assert result["step_errors"][2]["code"] == "SQLITE_CONSTRAINT_UNIQUE"
    assert answer["results"][3]["response"]["result"]["rows"] == [[{"type": "integer", "value": "3"}]]
    described = answer["results"][4]["response"]["result"]
    assert described["params"] == [{"name": ":x"}]
    assert described["cols"] == [{"name": "ex", "decltype": None}]
    assert described["is_readonly"] is True


def test_a_cursor_answers_one_json_object_per_line(url: str) -> None:
    batch = {"steps": [{"stmt": {"sql": "SELECT 1 AS a UNION ALL SELECT 2"}}, {"stmt": {"sql": "SELECT * FROM nope"}}]}
    status, lines = post(url, "/v3/cursor", {"baton": None, "batch": batch})
    assert status == 200
    assert [line.get("type") for line in lines] == [None, "step_begin", "row", "row", "step_end", "step_error"]
    assert lines[0]["baton"]


def test_a_server_without_v3_still_answers_v2_pipelines(url: str) -> None:
    status, answer = post(url, "/v2/pipeline", {"baton": None, "requests": [execute("SELECT 1")]})
    assert status == 200
    assert answer["results"][0]["response"]["result"]["rows"] == [[{"type": "integer", "value": "1"}]]


@pytest.mark.parametrize(
    ("kind", "status"), [("status500", 500), ("status401", 401), ("garbage", 200)], ids=["500", "401", "garbage"]
)
def test_a_fault_fails_only_the_requests_it_was_set_for(url: str, kind: str, status: int) -> None:
    assert post(url, "/_fault", {"kind": kind, "count": 1})[0] == 200
    got, body = post(url, "/v3/pipeline", {"baton": None, "requests": [execute("SELECT 1")]})
    assert got == status
    assert not isinstance(body, dict) or "results" not in body
    got, body = post(url, "/v3/pipeline", {"baton": None, "requests": [execute("SELECT 1")]})
    assert got == 200 and "results" in body


def test_a_reset_fault_cuts_the_answer_mid_body(url: str) -> None:
    post(url, "/_fault", {"kind": "reset", "count": 1})
    request = urllib.request.Request(
        url + "/v3/pipeline",
        data=json.dumps({"baton": None, "requests": [execute("SELECT 1")]}).encode(),
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with pytest.raises((ConnectionError, urllib.error.URLError, http.client.IncompleteRead)):
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
