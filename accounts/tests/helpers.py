from typing import Any

from rest_framework.test import APIClient

from accounts.services import token_issue


def client_for(user: Any, user_agent: str = "tests") -> APIClient:
    """An API client that authenticates as `user` with a real bearer token."""
    _, secret = token_issue(user=user, user_agent=user_agent)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client
