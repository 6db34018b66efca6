"""The documents of a cooperation: a letter of commitment, an agreement, as a PDF or a photo of the signed paper.
The file's kind is read from its first bytes, never from its name or what the browser says."""

from __future__ import annotations

import hashlib

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grenier.core.errors import InvalidInput
from grenier.core.models import User
from grenier.core.services import audit
from grenier.network.models import Cooperation, CooperationDocument, DocumentKind

MAX_BYTES = 5 * 1024 * 1024
"""A scanned letter of a few pages; a photo from a phone."""

SIGNATURES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


def sniff(data: bytes) -> tuple[str, str] | None:
    """The media type and extension of a PDF, PNG or JPEG file, from its first bytes; None for anything else."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def extension(document: CooperationDocument) -> str:
    return next((ext for _m, kind, ext in SIGNATURES if kind == document.content_type), "bin")


def document_add(
    *, cooperation: Cooperation, title: str, kind: str, data: bytes, by: User | None
) -> CooperationDocument:
    """Keeps ``data`` as a document of ``cooperation``. The same file sent again (a double tap, a retry) answers the
    document already kept: the file's hash is its key."""
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Give the document a title.")]
    if kind not in DocumentKind.values:
        errors["kind"] = [_("Choose what the document is.")]
    found = sniff(data)
    if not data:
        errors["file"] = [_("The file is empty.")]
    elif len(data) > MAX_BYTES:
        errors["file"] = [_("The file is larger than 5 MB: scan it at a lower resolution.")]
    elif found is None:
        errors["file"] = [_("Send a PDF, or a photo as JPEG or PNG.")]
    if errors or found is None:
        reasons = [reason for field_errors in errors.values() for reason in field_errors]
        # one reason is the message itself: the form shows it on its field, where the person reads it
        raise InvalidInput(
            reasons[0] if len(reasons) == 1 else _("The document could not be kept."), errors=errors
        )
    digest = hashlib.sha256(data).hexdigest()
    existing = CooperationDocument.objects.filter(cooperation=cooperation, sha256=digest).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            document = CooperationDocument.objects.create(
                cooperation=cooperation,
                title=title.strip()[:200],
                kind=kind,
                content=data,
                content_type=found[0],
                size=len(data),
                sha256=digest,
                uploaded_by=by,
            )
            audit(
                territory=cooperation.territory,
                actor=by,
                action="network.document.add",
                subject=f"network-cooperation:{cooperation.pk}",
                document=document.pk,
            )
    except IntegrityError:
        return CooperationDocument.objects.get(cooperation=cooperation, sha256=digest)
    return document
