"""Property-based fuzzing of the gateway and sharing API from its own OpenAPI document:
whatever the input, no call may end in a server error (5xx)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from shuzhi.db.engine import Database
from shuzhi.gateway.runtime import GatewayRuntime
from tests.gateway.helpers import TEST_OPTIONS, share

FUZZED = r"^/api/v1/(share|gateway|sharing)/"
EXAMPLES = 40


@pytest.mark.slow
def test_no_input_makes_the_api_fail(app: FastAPI, database: Database) -> None:
    shared = share(database, request_over={"delivery": ["api", "bulk"]})
    app.state.gateway = GatewayRuntime(database, app.state.query_engine, TEST_OPTIONS)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex=FUZZED)
    results = list(schema.get_all_operations())
    operations = [r.ok() for r in results if isinstance(r, Ok)]
    assert len(operations) == len(results), "every operation's schema loads"
    assert any("/records/{key}" in op.path for op in operations)
    statuses: dict[str, set[int]] = {}
    try:
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def fuzz(case: Any) -> None:
                headers = {**(case.headers or {}), "Authorization": f"Bearer {shared.token}"}
                response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
                statuses.setdefault(case.operation.path, set()).add(response.status_code)

            fuzz()
    finally:
        app.state.gateway.close()
    # The runs went past authentication: every consumer endpoint answered something other
    # than 401 at least once.
    for path, seen in statuses.items():
        if path.startswith("/api/v1/share/"):
            assert seen - {401}, path
