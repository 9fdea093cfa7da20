"""The problem+json shape is pinned here; people get bilingual pages, never a stack trace."""

from __future__ import annotations

import logging

import duckdb
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shuzhi.db.engine import Database
from tests.factories import PASSWORD, seed_org
from tests.web.helpers import csrf, login

PROBLEM_KEYS = {"type", "title", "status", "detail", "detail_zh", "detail_en", "errors"}


def test_unauthenticated_api_call_is_a_bilingual_problem(client: TestClient) -> None:
    response = client.get("/api/v1/org/units")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert set(body) == PROBLEM_KEYS
    assert body["type"] == "urn:shuzhi:problem:unauthenticated"
    assert body["detail_zh"] != body["detail_en"] and body["status"] == 401


def test_validation_errors_name_each_field_in_both_languages(
    client: TestClient, database: Database
) -> None:
    seed_org(database)
    login(client, "exec", PASSWORD)
    token = csrf(client, "/")
    response = client.post(
        "/api/v1/org/units",
        headers={"X-CSRF-Token": token},
        json={"code": "", "name": "x", "kind": "planet"},
    )
    assert response.status_code == 422
    body = response.json()
    fields = {e["field"] for e in body["errors"]}
    assert {"code", "name", "kind"} <= fields
    assert all(e["message_zh"] and e["message_en"] for e in body["errors"])


def test_unknown_api_route_and_unknown_page(client: TestClient) -> None:
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.json()["type"] == "urn:shuzhi:problem:not-found"
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "页面或接口不存在" in page.text and "No such page" in page.text


def test_internal_errors_show_no_stack_trace(app: FastAPI, database: Database) -> None:
    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom")
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.json()["detail_en"].startswith("Internal error")


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert client.get("/openapi.json").json()["info"]["title"].startswith("Shuzhi")


def test_the_log_keeps_out_what_an_engine_error_quotes(
    app: FastAPI, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    value = "110101199001011234"

    @app.get("/api/v1/engine-boom")
    def engine_boom() -> None:
        try:  # the engine's message quotes the value it could not convert
            duckdb.execute(f"SELECT CAST('{value}x' AS INTEGER)").fetchall()
        except duckdb.Error as exc:
            raise RuntimeError("reading a version failed") from exc

    with (
        caplog.at_level(logging.ERROR, logger="shuzhi"),
        TestClient(app, raise_server_exceptions=False) as client,
    ):
        response = client.get("/api/v1/engine-boom")
    assert response.status_code == 500 and value not in response.text
    logged = caplog.text
    assert value not in logged
    # What helps find the fault stays: the path, both errors' kinds and the frames.
    assert "/api/v1/engine-boom" in logged and "ConversionException" in logged
    assert "RuntimeError: reading a version failed" in logged and "engine_boom" in logged
