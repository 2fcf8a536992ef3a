"""Safe retries of POST /tasks with an Idempotency-Key header (SPEC section 12)."""

import datetime as dt
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.helpers import client_for
from api.tests.helpers import assert_problem
from tasks.idempotency import (
    IN_FLIGHT_TIMEOUT,
    KEY_LIFETIME,
    KeyInFlight,
    body_fingerprint,
    idempotency_claim,
    idempotency_complete,
)
from tasks.models import IdempotencyKey, Task
from tasks.tests.helpers import list_url

KEY = "8e03978e-40d5-43e8-bc93-6894a57f9324"
BODY = {"title": "Buy milk", "done": False}


def post(client: Any, body: Any = BODY, key: str | None = KEY, **kwargs: Any) -> Any:
    headers = {} if key is None else {"Idempotency-Key": key}
    return client.post(list_url(), body, format="json", headers=headers, **kwargs)


def in_flight(
    owner: Any, key: str = KEY, body: Any = BODY, since: dt.timedelta = dt.timedelta()
) -> IdempotencyKey:
    """A claim on `key` by a request that began `since` ago and has not answered."""
    began = timezone.now() - since
    return IdempotencyKey.objects.create(
        owner=owner,
        key=key,
        fingerprint=body_fingerprint(body=body),
        created_at=began,
        claimed_at=began,
        claim="a" * 32,
    )


def assert_same_response(first: Any, again: Any) -> None:
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again["Location"] == first["Location"]
    assert again["ETag"] == first["ETag"]


def test_repeat_with_the_same_key_and_body_replays_the_first_response_and_creates_nothing(api_client):
    """The second POST with the key gets the first 201 (status, body, Location, ETag); one task exists."""
    first = post(api_client)
    assert first.status_code == 201
    again = post(api_client)
    assert_same_response(first, again)
    assert Task.objects.count() == 1


def test_replay_is_the_first_response_even_after_the_task_changed(api_client):
    """A replay repeats the response as it was, not the task as it is now."""
    first = post(api_client)
    Task.objects.update(title="Changed since")
    again = post(api_client)
    assert_same_response(first, again)
    assert again.json()["title"] == "Buy milk"


def test_same_body_in_another_key_order_and_spacing_is_the_same_request(api_client):
    """The body is compared as JSON, so key order and white space do not make it different."""
    first = post(api_client, body={"title": "Buy milk", "done": False})
    again = api_client.post(
        list_url(),
        '{ "done" : false,\n "title": "Buy milk" }',
        content_type="application/json",
        headers={"Idempotency-Key": KEY},
    )
    assert_same_response(first, again)
    assert Task.objects.count() == 1


def test_same_key_with_a_different_body_returns_422_and_creates_nothing(api_client):
    """Reusing a key for another body is a 422 problem document; only the first task exists."""
    post(api_client)
    response = post(api_client, body={"title": "Buy bread"})
    assert_problem(response, 422)
    assert "Idempotency-Key" in response.json()["detail"]
    assert list(Task.objects.values_list("title", flat=True)) == ["Buy milk"]


def test_repeat_while_the_first_is_in_flight_returns_409_and_creates_nothing(api_client, user):
    """A key whose first request has not answered yet is a 409 problem document."""
    in_flight(user)
    response = post(api_client)
    assert_problem(response, 409)
    assert Task.objects.count() == 0


def test_different_body_while_the_first_is_in_flight_returns_422(api_client, user):
    """The body is checked before the state: another body is 422 even while the first runs."""
    in_flight(user)
    assert_problem(post(api_client, body={"title": "Buy bread"}), 422)


def test_a_request_that_died_in_flight_can_be_taken_over_after_the_timeout(api_client, user):
    """A claim older than IN_FLIGHT_TIMEOUT belongs to a request that died: a repeat creates the task."""
    in_flight(user, since=IN_FLIGHT_TIMEOUT + dt.timedelta(seconds=1))
    first = post(api_client)
    assert first.status_code == 201
    assert_same_response(first, post(api_client))
    assert Task.objects.count() == 1


def test_a_request_whose_key_was_taken_over_stores_nothing(user):
    """The slow request that lost its claim to a takeover cannot store its response over the new one."""
    fingerprint = body_fingerprint(body=BODY)
    slow = idempotency_claim(owner=user, key=KEY, fingerprint=fingerprint)
    assert isinstance(slow, str)
    IdempotencyKey.objects.update(claimed_at=timezone.now() - IN_FLIGHT_TIMEOUT - dt.timedelta(seconds=1))
    fresh = idempotency_claim(owner=user, key=KEY, fingerprint=fingerprint)
    assert isinstance(fresh, str) and fresh != slow

    class Answer:
        status_code, data = 201, {"id": 1}

        def has_header(self, name: str) -> bool:
            return False

    with pytest.raises(KeyInFlight):
        idempotency_complete(owner=user, key=KEY, claim=slow, response=Answer())  # type: ignore[arg-type]
    assert IdempotencyKey.objects.get().status is None


def test_failed_request_stores_nothing_and_frees_the_key(api_client):
    """A 400 is not stored: the same key then works for a corrected body."""
    assert_problem(post(api_client, body={"title": ""}), 400)
    assert IdempotencyKey.objects.count() == 0
    assert post(api_client, body={"title": "Corrected"}).status_code == 201
    assert Task.objects.count() == 1


def test_keys_of_different_users_never_collide(api_client, other_user):
    """Two users sending the same key and body each get their own task."""
    mine = post(api_client)
    theirs = post(client_for(other_user))
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["id"] != theirs.json()["id"]
    assert Task.objects.count() == 2


def test_different_keys_create_different_tasks(api_client):
    """Each new key is a new request: the same body twice under two keys creates two tasks."""
    assert post(api_client, key="one").status_code == 201
    assert post(api_client, key="two").status_code == 201
    assert Task.objects.count() == 2


def test_without_the_header_every_post_creates_a_task(api_client):
    """Without Idempotency-Key, POST behaves as before: two POSTs, two tasks, no key stored."""
    post(api_client, key=None)
    post(api_client, key=None)
    assert Task.objects.count() == 2
    assert IdempotencyKey.objects.count() == 0


def test_post_without_the_header_runs_no_extra_query(api_client, django_assert_num_queries):
    """Without the header, POST /tasks is still the token query and one insert: no key lookup."""
    with django_assert_num_queries(2):
        assert post(api_client, key=None).status_code == 201


def test_replay_runs_a_constant_number_of_queries(api_client, django_assert_num_queries):
    """A replay: the token query, the claim that fails on the unique key and one read of the stored response.

    (The claim's savepoint makes three of the six: under the test's transaction
    its own transaction is a savepoint.) No task is written.
    """
    post(api_client)
    with django_assert_num_queries(6) as captured:
        assert post(api_client).status_code == 201
    assert not [query for query in captured if "INSERT" in query["sql"] and "tasks_task" in query["sql"]]


@pytest.mark.parametrize(
    "key",
    ["", " ", "k" * 256, "with space", "tab\there", "new\nline", "nul\x00", "del\x7f", "clé", "ключ", "✓"],
    ids=[
        "empty",
        "blank",
        "256-chars",
        "space",
        "tab",
        "newline",
        "nul",
        "del",
        "latin-1",
        "cyrillic",
        "emoji",
    ],
)
def test_malformed_key_returns_400_naming_the_header_and_creates_nothing(api_client, key):
    """A key that is not 1 to 255 visible ASCII characters is a 400 problem naming Idempotency-Key."""
    response = post(api_client, key=key.encode().decode("latin-1"))
    body = assert_problem(response, 400)
    assert body["errors"] == [{"header": "Idempotency-Key", "detail": body["errors"][0]["detail"]}]
    assert body["errors"][0]["detail"]
    assert Task.objects.count() == 0
    assert IdempotencyKey.objects.count() == 0


@pytest.mark.parametrize("key", ["k", "k" * 255, '"8e03978e-40d5"', "!#$%&'()*+,-./:;<=>?@[]^_`{|}~"])
def test_any_1_to_255_visible_characters_are_a_key(api_client, key):
    """Every visible ASCII character counts, at lengths 1 and 255 too, quoted (as the draft shows) or not."""
    first = post(api_client, key=key)
    assert first.status_code == 201
    assert_same_response(first, post(api_client, key=key))
    assert IdempotencyKey.objects.get().key == key


def test_surrounding_white_space_is_not_part_of_the_key(api_client):
    """HTTP trims white space around a header value, so " k " and "k" are one key."""
    first = post(api_client, key=" k\t")
    assert_same_response(first, post(api_client, key="k"))


def test_a_key_expires_after_24_hours(api_client):
    """A day after its first use the key is new again: the same request creates another task."""
    first = post(api_client)
    IdempotencyKey.objects.update(created_at=timezone.now() - KEY_LIFETIME - dt.timedelta(seconds=1))
    again = post(api_client)
    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert Task.objects.count() == 2
    assert_same_response(again, post(api_client))


def test_an_expired_key_may_be_used_with_another_body(api_client):
    """An expired key keeps nothing of its first request: a different body is no 422."""
    post(api_client)
    IdempotencyKey.objects.update(created_at=timezone.now() - KEY_LIFETIME - dt.timedelta(seconds=1))
    assert post(api_client, body={"title": "Buy bread"}).status_code == 201


def test_purge_command_deletes_expired_keys_only(user, other_user):
    """purge_idempotency_keys deletes keys older than 24 hours, answered or in flight, and keeps the rest."""
    in_flight(user, key="old", since=KEY_LIFETIME + dt.timedelta(seconds=1))
    in_flight(other_user, key="old too", since=KEY_LIFETIME + dt.timedelta(hours=5))
    in_flight(user, key="recent", since=KEY_LIFETIME - dt.timedelta(minutes=1))
    out = StringIO()
    call_command("purge_idempotency_keys", stdout=out)
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["recent"]
    assert "Deleted 2" in out.getvalue()
    call_command("purge_idempotency_keys", stdout=StringIO())  # again: nothing left to do, no error
    assert IdempotencyKey.objects.count() == 1


def test_keys_go_with_their_user(user):
    """Deleting a user deletes the user's keys."""
    in_flight(user)
    user.delete()
    assert IdempotencyKey.objects.count() == 0
