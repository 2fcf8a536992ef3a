"""Fixtures every test module shares: users and API clients. Each test makes its own."""

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from accounts.tests.helpers import client_for


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """No test sees what another left in the cache."""
    cache.clear()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def api_client(user: Any) -> APIClient:
    return client_for(user)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()
