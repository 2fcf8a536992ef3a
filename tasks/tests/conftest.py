from typing import Any

import pytest

from tasks.models import Task
from tasks.tests.helpers import aged_task


@pytest.fixture
def task(user: Any) -> Task:
    """A task of `user`, titled "Original" and not done, with timestamps long in the past."""
    return aged_task(owner=user, title="Original", done=False)


@pytest.fixture
def others_task(other_user: Any) -> Task:
    """A done task of `other_user`, titled "Not yours", with timestamps long in the past."""
    return aged_task(owner=other_user, title="Not yours", done=True)
