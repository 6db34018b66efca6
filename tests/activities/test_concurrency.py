"""Many people take the last places at once, or one household's wallet pays several registrations at once: on PostgreSQL in real threads released together (the session's row
lock puts them in line: those who fit are confirmed, the others waiting-listed); SQLite serialises writers by
itself, so there the same calls run one after the other and the same outcome is checked."""

from __future__ import annotations

import pytest

from grenier.activities import services
from grenier.activities.models import PaidIn, Registration, RegistrationStatus
from grenier.activities.services import NotEnoughCredit
from grenier.fund.models import Payment
from grenier.ledger.selectors import ledger_check

from ..concurrency import at_once
from .conftest import Workshop, make_session
from .test_prices import give_credit, wallet


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("sessions", "wallet_cents", "paid"), [(2, 500, 1), (4, 1_000, 3)])
def test_one_wallet_registered_on_several_sessions_at_once_never_spends_more_than_it_holds(
    workshop: Workshop, sessions: int, wallet_cents: int, paid: int
) -> None:
    """The same household registered on several sessions paid in food credit at once (two phones of one family):
    each session's row lock does not order them, the ledger's conditional debit of the wallet does. Those the
    credit covers are confirmed and charged, the others refused with the credit left; nothing else is recorded."""
    household = workshop.cast.household
    give_credit(household, wallet_cents)
    rows = [
        make_session(
            workshop.activity,
            key=f"wallet-race-{index}",
            paid_in=PaidIn.CREDIT,
            price_adult_cents=300,
            address=f"Ferme {index}",
        )
        for index in range(sessions)
    ]

    def take(index: int) -> Registration:
        return services.register(
            session=rows[index], actor=None, idempotency_key=f"wallet-{index}", adults=1, household=household
        ).registration

    results = at_once(sessions, take)
    confirmed = [r for r in results if isinstance(r, Registration)]
    refused = [r for r in results if not isinstance(r, Registration)]
    assert all(isinstance(r, NotEnoughCredit) for r in refused), refused
    assert len(confirmed) == paid
    assert all(r.status == RegistrationStatus.CONFIRMED and r.charge_entry_id for r in confirmed)
    assert wallet(household) == wallet_cents - 300 * paid >= 0
    assert Registration.objects.filter(household=household, session__in=rows).count() == paid
    assert Payment.objects.filter(household=household, store=workshop.store).count() == paid
    assert ledger_check(household.territory).ok


@pytest.mark.django_db(transaction=True)
def test_one_household_registered_twice_on_a_session_at_once_pays_once(workshop: Workshop) -> None:
    """Two taps with two keys on the same session: the session's row lock lets the first in, the second finds its
    registration; the wallet is charged once."""
    household = workshop.cast.household
    give_credit(household, 1_000)
    session = make_session(
        workshop.activity, key="twice", paid_in=PaidIn.CREDIT, price_adult_cents=300, price_child_cents=100
    )

    def take(index: int) -> Registration:
        return services.register(
            session=session,
            actor=None,
            idempotency_key=f"tap-{index}",
            adults=2,
            children=1,
            household=household,
        ).registration

    results = at_once(2, take)
    assert all(isinstance(r, Registration) for r in results), results
    assert len({r.pk for r in results if isinstance(r, Registration)}) == 1
    assert wallet(household) == 1_000 - 700
    assert ledger_check(household.territory).ok
