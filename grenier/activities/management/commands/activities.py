"""``grenier activities remind|sessions|reward``: the day-before reminders (for cron: once a day, a second run the
same day sends nothing again), the coming sessions of a territory with their places, and the reciprocity rewards
due for volunteering hours (for cron: a second run pays nothing again)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from grenier.activities import reciprocity, selectors, services
from grenier.activities.models import Session
from grenier.core.models import Territory
from grenier.core.money import format_cents


def _territory(slug: str | None) -> Territory | None:
    if not slug:
        return None
    territory = Territory.objects.filter(slug=slug).first()
    if territory is None:
        raise CommandError(f"No territory {slug!r}.")
    return territory


def _s(count: int) -> str:
    """The English plural mark of the command's counts ("1 session", "2 sessions")."""
    return "" if count == 1 else "s"


class Command(BaseCommand):
    help = "Activities: the day-before reminders, the coming sessions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        remind = sub.add_parser(
            "remind", help="E-mail the households registered for tomorrow's sessions, once."
        )
        remind.add_argument("--territory", help="Only this territory (default: every one).")
        remind.add_argument(
            "--today", type=date.fromisoformat, help="YYYY-MM-DD (default: today, Paris time)."
        )
        sessions = sub.add_parser("sessions", help="The coming sessions of a territory, with their places.")
        sessions.add_argument("--territory", default="demo")
        reward = sub.add_parser(
            "reward", help="Pay the reciprocity rewards earned by volunteering hours (each hour once)."
        )
        reward.add_argument("--territory", help="Only this territory (default: every one).")

    def handle(self, *args: Any, **options: Any) -> None:
        territory = _territory(options.get("territory"))
        if options["action"] == "remind":
            sent = services.reminders_send(today=options.get("today"), territory=territory)
            self.stdout.write(f"{sent} reminder{_s(sent)} sent.")
            return
        if options["action"] == "reward":
            self._reward(territory)
            return
        rows = selectors.upcoming(Session.objects.filter(territory=territory), timezone.localdate())
        count = 0
        for session in rows:
            count += 1
            self.stdout.write(
                f"{session.pk}\t{session.date:%Y-%m-%d} {session.starts_at:%H:%M}\t{session.activity.title}\t"
                f"{session.left}/{session.capacity} left\t{session.waiting} waiting"  # type: ignore[attr-defined]
            )
        self.stdout.write(f"{count} session{_s(count)}.")

    def _reward(self, territory: Territory | None) -> None:
        territories = [territory] if territory else list(Territory.objects.order_by("slug"))
        for current in territories:
            paid = reciprocity.rewards_pay(territory=current, actor=None)
            self.stdout.write(
                f"{current.slug}: {paid.rewards} reward{_s(paid.rewards)} to {paid.households} household{_s(paid.households)} "
                f"(food credit {format_cents(paid.credit_cents)}, baskets {format_cents(paid.basket_cents)})."
            )
