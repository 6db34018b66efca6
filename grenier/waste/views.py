"""Pages of biowaste: the kitchens' campaigns and their figures beside the national ones, a service's weighing typed
on a phone at the end of the service (big fields, few taps), a new campaign, where biowaste goes, and the exports.

Every page resolves the territory and checks who may see it through ``territory_page`` and ``waste.access``;
``waste.services`` decides.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from grenier.core.auth import user_of
from grenier.core.errors import Forbidden, GrenierError
from grenier.core.models import Territory
from grenier.core.pages import PAGE_SIZE, form_errors, idempotency_key
from grenier.core.views import territory_page
from grenier.waste import access, exports, figures, forms, references, services
from grenier.waste.models import Campaign, Destination, MealService, Weighing

waste_page = territory_page(nav="waste", check=access.require_waste)
"""404 without a role here; 403 for a role that neither records nor reads biowaste."""


def _render(request: HttpRequest, territory: Territory, template: str, **context: Any) -> HttpResponse:
    context.update(
        territory=territory,
        recording=access.kitchens_recording(request.user, territory).exists(),
        references=references.REFERENCES,
        reference_target=references.TARGET,
        reference_cut=references.AVERAGE_CUT,
    )
    return render(request, f"waste/{template}", context)


@waste_page
def home(request: HttpRequest, territory: Territory) -> HttpResponse:
    campaigns = access.campaigns_of(request.user, territory).select_related("kitchen")
    found = figures.totals_by_campaign(campaigns)
    kitchens = []
    for kitchen in access.kitchens_visible(request.user, territory).order_by("name"):
        rows = [(c, found.get(c.pk, figures.Totals())) for c in campaigns if c.kitchen_id == kitchen.pk]
        kitchens.append(
            {"kitchen": kitchen, "campaigns": rows, "records": access.may_record(request.user, kitchen)}
        )
    year_start = date(timezone.localdate().year, 1, 1)
    sent = access.deliveries_of(request.user, territory).filter(day__gte=year_start)
    return _render(
        request,
        territory,
        "home.html",
        kitchens=kitchens,
        sent_to_farms=sent.filter(kind=Destination.FARM).aggregate(g=Sum("weight_g"))["g"] or 0,
        sent_elsewhere=sent.exclude(kind=Destination.FARM).aggregate(g=Sum("weight_g"))["g"] or 0,
        year=year_start.year,
    )


@waste_page
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest, territory: Territory) -> HttpResponse:
    kitchens = access.kitchens_recording(request.user, territory)
    if not kitchens.exists():
        raise Forbidden(_("Only a kitchen's managers set up its campaigns."))
    form = forms.CampaignForm(
        request.POST or None,
        kitchens=kitchens,
        campaigns=Campaign.objects.filter(kitchen__in=kitchens).select_related("kitchen"),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.campaign_create(
                kitchen=data["kitchen"],
                name=data["name"],
                phase=data["phase"],
                action=data["action"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                services=data["services"],
                weighed_by=data["weighed_by"],
                compares_with=data["compares_with"],
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Campaign created: weigh each service at its end."))
            return redirect("waste_campaign", territory.slug, campaign.pk)
    return _render(
        request, territory, "campaign_new.html", form=form, idempotency_key=idempotency_key(request)
    )


@waste_page
def campaign_detail(request: HttpRequest, territory: Territory, campaign_id: int) -> HttpResponse:
    campaign = access.campaign_for(request.user, territory, campaign_id)
    found = figures.totals(campaign.weighings.all())
    kinds = found.kinds()
    return _render(
        request,
        territory,
        "campaign.html",
        campaign=campaign,
        totals=found,
        kinds=kinds,
        largest=max((per_meal or 0 for _k, _l, _g, per_meal in kinds), default=0),
        services=figures.by_service(campaign),
        comparison=figures.comparison(campaign),
        weighings=list(campaign.weighings.select_related("recorded_by")),
        may_record=access.may_record(request.user, campaign.kitchen),
        started=campaign.starts_on <= timezone.localdate(),
        yearly=_yearly(found, campaign),
        days_a_year=figures.days_a_year(campaign.kitchen),
    )


def _yearly(found: figures.Totals, campaign: Campaign) -> figures.Fraction | None:
    per_meal = found.per_meal()
    return None if per_meal is None else figures.yearly_grams(per_meal, campaign.kitchen)


def _figures(data: dict[str, Any]) -> dict[str, Any]:
    """A weighing form's figures as the services take them."""
    return {
        "meals": data["meals"],
        "grams": services.Grams(**{kind: data[kind] for kind in figures.KINDS}),
        "note": data["note"],
        "confirm": data["confirm"],
    }


def _on_form(form: django_forms.Form, call: Callable[[], Weighing]) -> tuple[Weighing | None, bool]:
    """The service's weighing, or its refusal put on the form: (the weighing or None, whether it was a warning
    of an unusual value the person may confirm)."""
    try:
        return call(), False
    except services.UnusualValue as exc:
        form_errors(form, exc)
        return None, True
    except GrenierError as exc:
        form_errors(form, exc)
        return None, False


def _weighing_initial(campaign: Campaign) -> dict[str, object]:
    """Today and the first service not weighed yet today, when today is a day of the campaign: one tap less."""
    today = timezone.localdate()
    day = min(max(today, campaign.starts_on), campaign.ends_on)
    weighed = set(campaign.weighings.filter(day=day).values_list("service", flat=True))
    service = next((s for s in campaign.services if s not in weighed), campaign.services[0])
    return {"day": day, "service": service}


@waste_page
@require_http_methods(["GET", "POST"])
def weigh(request: HttpRequest, territory: Territory, campaign_id: int) -> HttpResponse:
    campaign = access.campaign_to_record(request.user, territory, campaign_id)
    form = forms.WeighingForm(
        request.POST or None, services=campaign.services, initial=_weighing_initial(campaign)
    )
    warned = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        weighing, warned = _on_form(
            form,
            lambda: services.weighing_record(
                campaign=campaign,
                day=data["day"],
                service=data["service"],
                **_figures(data),
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            ),
        )
        if weighing is not None:
            messages.success(
                request,
                _("%(service)s of %(day)s recorded: %(figure)s thrown away per meal.")
                % {
                    "service": MealService(weighing.service).label,
                    "day": weighing.day.strftime("%d/%m/%Y"),
                    "figure": figures.grams_per_meal_text(figures.Fraction(weighing.total_g, weighing.meals)),
                },
            )
            return redirect("waste_campaign", territory.slug, campaign.pk)
    return _render(
        request,
        territory,
        "weigh.html",
        campaign=campaign,
        form=form,
        warned=warned or bool(request.POST.get("confirm")),
        idempotency_key=idempotency_key(request),
    )


@waste_page
@require_http_methods(["GET", "POST"])
def weighing_correct(request: HttpRequest, territory: Territory, weighing_id: int) -> HttpResponse:
    weighing = access.weighing_to_record(request.user, territory, weighing_id)
    initial = {"meals": weighing.meals, "note": weighing.note}
    initial.update({kind: _kilograms_text(grams) for kind, grams in weighing.grams().items()})
    form = forms.CorrectionForm(request.POST or None, initial=initial)
    warned = False
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        corrected, warned = _on_form(
            form,
            lambda: services.weighing_correct(weighing=weighing, **_figures(data), actor=user_of(request)),
        )
        if corrected is not None:
            messages.success(request, _("Weighing corrected."))
            return redirect("waste_campaign", territory.slug, weighing.campaign_id)
    return _render(
        request,
        territory,
        "weigh.html",
        campaign=weighing.campaign,
        weighing=weighing,
        form=form,
        warned=warned or bool(request.POST.get("confirm")),
    )


def _kilograms_text(grams: int) -> str:
    """Grams as the kilograms a person types: ``12,5`` (no trailing zeros), ``0`` for nothing."""
    return figures.decimal_text(figures.Fraction(grams, 1000), 3).rstrip("0").rstrip(",.") or "0"


@waste_page
@require_http_methods(["GET", "POST"])
def deliveries(request: HttpRequest, territory: Territory) -> HttpResponse:
    kitchens = access.kitchens_recording(request.user, territory)
    form = None
    if kitchens.exists():
        form = forms.DeliveryForm(
            request.POST or None,
            kitchens=kitchens,
            farms=access.farms(territory),
            initial={"day": timezone.localdate()},
        )
    elif request.method == "POST":
        raise Forbidden(_("Only a kitchen's managers record where its biowaste goes."))
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        try:
            services.delivery_record(
                kitchen=data["kitchen"],
                day=data["day"],
                weight_g=data["weight"],
                kind=data["kind"],
                producer=data["producer"],
                destination=data["destination"],
                note=data["note"],
                actor=user_of(request),
                idempotency_key=idempotency_key(request),
            )
        except GrenierError as exc:
            form_errors(form, exc, {"weight_g": "weight"})
        else:
            messages.success(request, _("Delivery recorded."))
            return redirect("waste_deliveries", territory.slug)
    rows = access.deliveries_of(request.user, territory).select_related("kitchen", "producer")
    page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    by_destination = (
        rows.values("kind", "producer__farm_name", "destination").annotate(g=Sum("weight_g")).order_by("-g")
    )
    return _render(
        request,
        territory,
        "deliveries.html",
        form=form,
        page_obj=page_obj,
        deliveries=list(page_obj),
        by_destination=list(by_destination),
        idempotency_key=idempotency_key(request),
    )


# --- exports ----------------------------------------------------------------------------------------------------------


def _download(content: bytes | str, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@waste_page
def campaign_export(request: HttpRequest, territory: Territory, campaign_id: int, fmt: str) -> HttpResponse:
    campaign = access.campaign_for(request.user, territory, campaign_id)
    stem = f"pesees-{campaign.pk}"
    if fmt == "csv":
        return _download(exports.weighings_csv(campaign), "text/csv; charset=utf-8", f"{stem}.csv")
    if fmt == "xlsx":
        return _download(exports.weighings_xlsx(campaign), exports.XLSX_TYPE, f"{stem}.xlsx")
    if fmt == "pdf":
        return _download(
            exports.campaign_pdf(campaign), "application/pdf", f"bilan-gaspillage-{campaign.pk}.pdf"
        )
    return _download(
        exports.ma_cantine_csv([campaign]),
        "text/csv; charset=utf-8",
        f"ma-cantine-gaspillage-{campaign.pk}.csv",
    )


def _year(request: HttpRequest) -> int:
    raw = request.GET.get("year", "")
    this_year = timezone.localdate().year
    return int(raw) if raw.isdigit() and this_year - 10 <= int(raw) <= this_year else this_year


@waste_page
def ma_cantine(request: HttpRequest, territory: Territory) -> HttpResponse:
    """Each kitchen's campaigns of a year as ma-cantine's waste measurements, beside the EGalim purchase export."""
    year = _year(request)
    campaigns = list(
        access.campaigns_of(request.user, territory)
        .filter(starts_on__year=year)
        .select_related("kitchen")
        .order_by("kitchen__name", "starts_on")
    )
    this_year = timezone.localdate().year
    return _render(
        request,
        territory,
        "ma_cantine.html",
        page="ma-cantine",
        rows=[(campaign, exports.ma_cantine_waste_row(campaign)) for campaign in campaigns],
        kitchens=sorted({campaign.kitchen for campaign in campaigns}, key=lambda k: k.name),
        year=year,
        years=list(range(this_year, this_year - 5, -1)),
    )


@waste_page
def ma_cantine_csv(request: HttpRequest, territory: Territory, kitchen_id: int) -> HttpResponse:
    kitchen = access.kitchen_for(request.user, territory, kitchen_id)
    year = _year(request)
    campaigns = Campaign.objects.filter(kitchen=kitchen, starts_on__year=year).order_by("starts_on")
    return _download(
        exports.ma_cantine_csv(campaigns),
        "text/csv; charset=utf-8",
        f"ma-cantine-gaspillage-{kitchen.siret or kitchen.pk}-{year}.csv",
    )
