"""Property-based tests of every operation against the OpenAPI document (schemathesis)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api.conftest import ApiEnv

EXAMPLES = 12


@pytest.mark.slow
def test_every_operation_conforms(api_env: ApiEnv) -> None:
    """No server error, statuses, content types and bodies as documented, invalid input refused;
    on both databases, whose types and constraints differ (PostgreSQL enforces column lengths)."""
    api_env.register("importer")
    headers = api_env.h("importer")  # authenticated, so operations get past authentication
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_env.client.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None, derandomize=True)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers,
                # Valid input may still name things that do not exist (404) or break a rule of
                # the ledger (409): accepting every schema-valid request is not this API's contract.
                excluded_checks=[schemathesis.checks.positive_data_acceptance],
            )

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure, not the first
            failures.append(f"{operation.label}: {exc}")
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
