from django.urls import reverse


def test_create_returns_201_with_location(api_client):
    """POST /tasks creates a task owned by the caller and points at it."""
    response = api_client.post(reverse("task-list"), {"title": "Buy milk"}, format="json")
    assert response.status_code == 201
    assert response["Location"] == f"/tasks/{response.data['id']}"
