"""Secret ballots: from one row per choice to three sealed counts per proposal (docs/decisions/0002-secret-ballots.md).

The rows of ``governance_secretballot`` were written in voting order, as were the attendance list's, so the order
of rows linked voters to choices. Each proposal's choices become one ``SecretTally`` row: the numbers for, against
and abstention, sealed under a key derived from ``SECRET_KEY``. The old rows are erased (on SQLite with
``secure_delete``, so their bytes do not linger in free pages) and their table dropped.

A vote still open keeps its receipts usable: each old receipt's choice is kept sealed under a key derived from the
receipt's own hash (so only its holder opens it), found by a second hash of it, the rows written in a shuffled order;
using one deletes it. The voters' attendance rows get no receipt hash, which is how the service knows to look there.

Sealing is copied here (format version 1, as ``grenier/governance/secrecy.py`` reads it) rather than imported: a
migration does not depend on app code that may change after it.
"""

import hashlib
import hmac
import secrets
import struct

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CHOICES = ("for", "against", "abstain")
VERSION = b"\x01"


def _seal(plain: bytes, key: bytes, context: bytes) -> bytes:
    enc_key = hmac.digest(key, b"encrypt", "sha256")
    mac_key = hmac.digest(key, b"authenticate", "sha256")
    nonce = secrets.token_bytes(16)
    stream = b"".join(
        hmac.digest(enc_key, nonce + i.to_bytes(4, "big"), "sha256") for i in range((len(plain) + 31) // 32)
    )
    ciphertext = bytes(a ^ b for a, b in zip(plain, stream, strict=False))
    tag = hmac.digest(
        mac_key, VERSION + nonce + len(context).to_bytes(4, "big") + context + ciphertext, "sha256"
    )
    return VERSION + nonce + ciphertext + tag[:16]


def _unseal(sealed: bytes, keys: list[bytes], context: bytes) -> bytes:
    nonce, ciphertext, tag = sealed[1:17], sealed[17:-16], sealed[-16:]
    for key in keys:
        enc_key = hmac.digest(key, b"encrypt", "sha256")
        mac_key = hmac.digest(key, b"authenticate", "sha256")
        expected = hmac.digest(
            mac_key, VERSION + nonce + len(context).to_bytes(4, "big") + context + ciphertext, "sha256"
        )[:16]
        if sealed[:1] == VERSION and hmac.compare_digest(tag, expected):
            stream = b"".join(
                hmac.digest(enc_key, nonce + i.to_bytes(4, "big"), "sha256")
                for i in range((len(ciphertext) + 31) // 32)
            )
            return bytes(a ^ b for a, b in zip(ciphertext, stream, strict=False))
    raise ValueError(
        "the secret counts cannot be opened with this server's key (GRENIER_SECRET_KEY or its fallbacks)"
    )


def _counts_keys(proposal_id: int) -> list[bytes]:
    masters = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    label = f"grenier.governance.secret-ballot.counts:{proposal_id}".encode()
    return [
        hmac.digest(hashlib.sha256(b"grenier.governance:" + str(master).encode()).digest(), label, "sha256")
        for master in masters
    ]


def _converted(proposal_id: int, old_hash: str, choice: str) -> tuple[str, str]:
    lookup = hashlib.sha256(b"grenier.governance.converted-receipt.lookup:" + old_hash.encode()).hexdigest()
    key = hashlib.sha256(b"grenier.governance.converted-receipt.key:" + old_hash.encode()).digest()
    sealed = _seal(bytes([CHOICES.index(choice)]), key, f"converted:{proposal_id}".encode())
    return lookup, sealed.hex()


def forwards(apps, schema_editor):
    SecretBallot = apps.get_model("governance", "SecretBallot")
    SecretTally = apps.get_model("governance", "SecretTally")
    ConvertedReceipt = apps.get_model("governance", "ConvertedReceipt")
    Decision = apps.get_model("governance", "Decision")
    db = schema_editor.connection.alias
    shuffle = secrets.SystemRandom().shuffle
    proposal_ids = sorted(set(SecretBallot.objects.using(db).values_list("proposal_id", flat=True)))
    for proposal_id in proposal_ids:
        rows = list(
            SecretBallot.objects.using(db)
            .filter(proposal_id=proposal_id)
            .values_list("receipt_hash", "choice")
        )
        counts = [sum(1 for _hash, chosen in rows if chosen == choice) for choice in CHOICES]
        sealed = _seal(
            struct.pack(">III", *counts), _counts_keys(proposal_id)[0], f"counts:{proposal_id}".encode()
        )
        SecretTally.objects.using(db).create(proposal_id=proposal_id, sealed=sealed.hex())
        if Decision.objects.using(db).filter(proposal_id=proposal_id).exists():
            continue  # counted already: nothing left to change
        converted = [
            ConvertedReceipt(proposal_id=proposal_id, lookup=lookup, sealed=sealed_choice)
            for lookup, sealed_choice in (_converted(proposal_id, old, chosen) for old, chosen in rows)
        ]
        shuffle(converted)
        ConvertedReceipt.objects.using(db).bulk_create(converted)
    if schema_editor.connection.vendor == "sqlite":
        # Overwrite the old rows with zeros as they go, rather than leave them in the file's free pages.
        with schema_editor.connection.cursor() as cursor:
            previous = cursor.execute("PRAGMA secure_delete").fetchone()[0]
            cursor.execute("PRAGMA secure_delete = 1")
            cursor.execute("DELETE FROM governance_secretballot")
            cursor.execute(f"PRAGMA secure_delete = {int(previous)}")


def backwards(apps, schema_editor):
    """One row per counted choice again, in a random order and with random receipt hashes (the receipts of votes
    still open are lost)."""
    SecretBallot = apps.get_model("governance", "SecretBallot")
    SecretTally = apps.get_model("governance", "SecretTally")
    db = schema_editor.connection.alias
    rows = []
    for tally in SecretTally.objects.using(db).all():
        plain = _unseal(
            bytes.fromhex(tally.sealed),
            _counts_keys(tally.proposal_id),
            f"counts:{tally.proposal_id}".encode(),
        )
        for choice, count in zip(CHOICES, struct.unpack(">III", plain), strict=True):
            rows += [
                SecretBallot(proposal_id=tally.proposal_id, receipt_hash=secrets.token_hex(32), choice=choice)
                for _ in range(count)
            ]
    secrets.SystemRandom().shuffle(rows)
    SecretBallot.objects.using(db).bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("governance", "0002_decisions_immutable_on_postgresql")]

    operations = [
        migrations.CreateModel(
            name="SecretTally",
            fields=[
                (
                    "proposal",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="secret_tally",
                        serialize=False,
                        to="governance.proposal",
                    ),
                ),
                ("sealed", models.CharField(max_length=128)),
            ],
        ),
        migrations.AddField(
            model_name="participation",
            name="receipt_hash",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.CreateModel(
            name="ConvertedReceipt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("lookup", models.CharField(max_length=64)),
                ("sealed", models.CharField(max_length=128)),
                (
                    "proposal",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="governance.proposal",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="convertedreceipt",
            constraint=models.UniqueConstraint(
                fields=("proposal", "lookup"), name="one_converted_receipt_per_lookup"
            ),
        ),
        # The data moves before the old table goes, and after every change of schema of the new tables (PostgreSQL
        # refuses to alter a table with rows whose deferred checks are still pending in the transaction).
        migrations.RunPython(forwards, backwards),
        migrations.DeleteModel(name="SecretBallot"),
    ]
