"""``grenier token create|list|revoke``: API tokens. A new key is printed once; only its hash is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from grenier.core import services
from grenier.core.errors import GrenierError
from grenier.core.models import ApiToken, Territory, User


class Command(BaseCommand):
    help = "Create, list or revoke API tokens."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--user", required=True, help="The e-mail of the person the token acts as.")
        create.add_argument("--territory", required=True, help="The slug of the territory it works in.")
        create.add_argument(
            "--name", default="", help="A name to recognise it by (e.g. 'till of the store')."
        )
        listing = sub.add_parser("list", help="List tokens (never their keys).")
        listing.add_argument("--user", help="Only this person's tokens.")
        revoke = sub.add_parser("revoke", help="Revoke a token by its id or its prefix.")
        revoke.add_argument("token", help="The token's id, or the first characters of its key (grn_xxxxxx).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['action']}")(options)
        except GrenierError as exc:
            raise CommandError(exc.detail) from exc

    def _create(self, options: dict[str, Any]) -> None:
        user = User.objects.filter(email=options["user"].strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with the e-mail {options['user']!r}.")
        territory = Territory.objects.filter(slug=options["territory"]).first()
        if territory is None:
            raise CommandError(f"No territory with the slug {options['territory']!r}.")
        token, key = services.token_create(user=user, territory=territory, name=options["name"])
        self.stderr.write(
            f"Token {token.pk} for {user.email} in {territory.slug}. Keep it now: it is shown only once."
        )
        self.stdout.write(key)

    def _list(self, options: dict[str, Any]) -> None:
        tokens = ApiToken.objects.select_related("user", "territory").order_by("id")
        if options.get("user"):
            tokens = tokens.filter(user__email=options["user"].strip().lower())
        for token in tokens:
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            self.stdout.write(
                f"{token.pk:>5}  {token.prefix}…  {token.user.email}  {token.territory.slug}  {state}  {used}  {token.name}"
            )

    def _revoke(self, options: dict[str, Any]) -> None:
        token = services.token_find(prefix_or_id=options["token"])
        services.token_revoke(token=token, actor=None)
        self.stdout.write(f"Token {token.pk} ({token.prefix}…) revoked.")
