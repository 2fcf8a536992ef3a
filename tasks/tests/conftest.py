from typing import Any

import pytest
from django.core.cache import cache
from knox.models import AuthToken
from rest_framework.test import APIClient

from tasks.models import Task
from tasks.tests.factories import UserFactory
from tasks.tests.helpers import aged_task


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """The throttle's history lives in the cache; no test sees another's."""
    cache.clear()


@pytest.fixture
def user(db: Any) -> Any:
    return UserFactory()


@pytest.fixture
def other_user(db: Any) -> Any:
    return UserFactory()


def client_for(user: Any) -> APIClient:
    """An API client that authenticates as `user` with a real bearer token."""
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def api_client(user: Any) -> APIClient:
    return client_for(user)


@pytest.fixture
def anon_client() -> APIClient:
    return APIClient()


@pytest.fixture
def task(user: Any) -> Task:
    """A task of `user`, titled "Original" and not done, with timestamps long in the past."""
    return aged_task(owner=user, title="Original", done=False)


@pytest.fixture
def others_task(other_user: Any) -> Task:
    """A done task of `other_user`, titled "Not yours", with timestamps long in the past."""
    return aged_task(owner=other_user, title="Not yours", done=True)
