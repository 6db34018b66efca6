"""A cooperation's documents: a signed letter of commitment kept as a file, for the coordinators and the people of
the cooperation's actors only; its kind read from its bytes; the same file twice kept once."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from grenier.core.errors import InvalidInput
from grenier.network import services
from grenier.network.models import Cooperation, CooperationDocument

from .conftest import Map, new_cooperation

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _urls(net: Map) -> tuple[str, Cooperation]:
    cooperation = new_cooperation(net)  # the food bank (the social worker's) and the town hall
    return reverse(
        "network_cooperation_document_add", args=[net.cast.territory.slug, cooperation.pk]
    ), cooperation


def _upload(client: Client, url: str, data: bytes = PDF, name: str = "lettre.pdf", title: str = "Lettre"):
    return client.post(
        url, {"title": title, "kind": "commitment", "file": SimpleUploadedFile(name, data, "application/pdf")}
    )


@pytest.mark.parametrize(
    ("who", "adds"),
    [
        ("coordinator", 302),
        ("social_worker", 302),  # one of the food bank's people
        ("committee", 403),
        ("member", 403),
        ("cashier", 403),
        ("outsider", 404),
    ],
)
def test_who_adds_and_reads_a_cooperation_s_documents(
    net: Map, login: Callable[..., Client], who: str, adds: int
) -> None:
    url, cooperation = _urls(net)
    kept = services.document_add(
        cooperation=cooperation, title="Convention", kind="agreement", data=PDF, by=net.cast["coordinator"]
    )
    download = reverse(
        "network_cooperation_document", args=[net.cast.territory.slug, cooperation.pk, kept.pk]
    )
    page = reverse("network_cooperation", args=[net.cast.territory.slug, cooperation.pk])
    client = login(net.cast[who])
    assert _upload(client, url, PDF + b"%" + who.encode()).status_code == adds
    got = client.get(download)
    assert got.status_code == (200 if adds == 302 else adds)
    if adds == 302:
        assert got.content == PDF and got["Content-Type"] == "application/pdf"
        assert got["X-Content-Type-Options"] == "nosniff" and "attachment" in got["Content-Disposition"]
        assert download in client.get(page).content.decode()
    elif who != "outsider":
        shown = client.get(page).content.decode()
        assert "Convention" not in shown and 'id="document-form"' not in shown
    assert CooperationDocument.objects.count() == (2 if adds == 302 else 1)


def test_nobody_logged_in_is_sent_to_log_in(net: Map, client: Client) -> None:
    url, _cooperation = _urls(net)
    assert _upload(client, url).status_code == 302
    assert CooperationDocument.objects.count() == 0


def test_the_same_file_twice_is_kept_once_and_a_wrong_file_is_said_on_the_form(
    net: Map, login: Callable[..., Client]
) -> None:
    url, _cooperation = _urls(net)
    client = login(net.cast["social_worker"])
    assert _upload(client, url).status_code == 302
    assert _upload(client, url).status_code == 302  # a double tap
    assert CooperationDocument.objects.count() == 1
    refused = _upload(client, url, b"MZ\x90\x00 an executable", name="lettre.pdf")
    assert refused.status_code == 200
    assert "Envoyez un PDF" in refused.content.decode() and 'id="document-form"' in refused.content.decode()
    assert CooperationDocument.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "title", "kind", "field"),
    [
        (b"", "Lettre", "commitment", "file"),
        (b"GIF89a", "Lettre", "commitment", "file"),
        (PDF, " ", "commitment", "title"),
        (PDF, "Lettre", "love-letter", "kind"),
        (b"%PDF-" + b"0" * (services.documents.MAX_BYTES), "Lettre", "commitment", "file"),
    ],
)
def test_a_document_that_cannot_be_kept_says_which_field(
    net: Map, data: bytes, title: str, kind: str, field: str
) -> None:
    _url, cooperation = _urls(net)
    with pytest.raises(InvalidInput) as refused:
        services.document_add(cooperation=cooperation, title=title, kind=kind, data=data, by=None)
    assert field in refused.value.errors


def test_a_photo_of_the_signed_paper_is_kept_as_an_image(net: Map) -> None:
    _url, cooperation = _urls(net)
    jpeg = services.document_add(
        cooperation=cooperation, title="Photo", kind="commitment", data=b"\xff\xd8\xff\xe0 jfif", by=None
    )
    assert jpeg.content_type == "image/jpeg" and services.documents.extension(jpeg) == "jpg"
