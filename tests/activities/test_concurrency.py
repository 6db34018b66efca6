"""Many people take the last places at once: on PostgreSQL in real threads released together (the session's row
lock puts them in line: those who fit are confirmed, the others waiting-listed); SQLite serialises writers by
itself, so there the same calls run one after the other and the same outcome is checked."""

from __future__ import annotations

import pytest

from grenier.activities import services
from grenier.activities.models import Registration, RegistrationStatus

from ..concurrency import at_once
from .conftest import Workshop, make_session


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("capacity", "people"), [(1, 2), (3, 8)])
def test_people_taking_the_last_places_at_once_never_exceed_them(
    workshop: Workshop, capacity: int, people: int
) -> None:
    session = make_session(workshop.activity, key=f"race-{capacity}", capacity=capacity)
    households = [workshop.household(f"Foyer Course {i}") for i in range(people)]

    def take(index: int) -> Registration:
        return services.register(
            session=session,
            actor=None,
            idempotency_key=f"race-{index}",
            adults=1,
            household=households[index],
        ).registration

    results = at_once(people, take)
    assert all(isinstance(result, Registration) for result in results), results
    statuses = [result.status for result in results if isinstance(result, Registration)]
    assert statuses.count(RegistrationStatus.CONFIRMED) == capacity
    assert statuses.count(RegistrationStatus.WAITING) == people - capacity
    assert services.places_taken(session) == capacity
    # The waiting list is in the order the lock let them in: each waits from no earlier than the one before.
    waiting = list(
        session.registrations.filter(status=RegistrationStatus.WAITING).order_by("waiting_since", "id")
    )
    assert len(waiting) == people - capacity
