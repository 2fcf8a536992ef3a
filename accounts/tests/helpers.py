from typing import Any

from knox.models import AuthToken
from rest_framework.test import APIClient


def client_for(user: Any) -> APIClient:
    """An API client that authenticates as `user` with a real bearer token."""
    _, token = AuthToken.objects.create(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client
