"""Pages of the solidarity baskets, under ``/t/<territory>/baskets/``.

A coordinator runs the gardens (forecast, agreements, subscriptions, the week's sheets, payments, workshops); a
social worker refers households and follows their own referrals; a member household manages its basket (absences,
pause, stop); a volunteer checks a pickup point's sheet off on a phone; funders and the committee read statements
and the yearly report. Every page resolves the territory through ``territory_page``; what a person acts for is
answered by ``baskets.access`` (404 for what is not theirs, 403 for a role that may not); services decide.

A package by subject: common, home, gardens, subscriptions, referring, distribution (sheets), member_payments,
figures (statements and the report), reference (gardens and offers), points, agreements, funders."""

from __future__ import annotations

from grenier.baskets.views.agreements import AGREEMENT_FIELDS, agreement_edit, agreement_new, basket_settings
from grenier.baskets.views.common import BASKET_ACTIONS, GARDEN_PAGE_SIZE
from grenier.baskets.views.distribution import sheet, sheet_close, sheet_line, sheet_pdf, sheet_reopen, sheets
from grenier.baskets.views.figures import report, statement_csv, statement_pdf, statements
from grenier.baskets.views.funders import funder_payments
from grenier.baskets.views.gardens import garden, generate, workshop
from grenier.baskets.views.home import home
from grenier.baskets.views.member_payments import payments
from grenier.baskets.views.points import point_edit, point_new
from grenier.baskets.views.reference import garden_edit, garden_new, offer_edit, offer_new
from grenier.baskets.views.referring import referral, referral_new, referrals
from grenier.baskets.views.subscriptions import mine, subscribe, subscription

__all__ = [
    "AGREEMENT_FIELDS",
    "BASKET_ACTIONS",
    "GARDEN_PAGE_SIZE",
    "agreement_edit",
    "agreement_new",
    "basket_settings",
    "funder_payments",
    "garden",
    "garden_edit",
    "garden_new",
    "generate",
    "home",
    "mine",
    "offer_edit",
    "offer_new",
    "payments",
    "point_edit",
    "point_new",
    "referral",
    "referral_new",
    "referrals",
    "report",
    "sheet",
    "sheet_close",
    "sheet_line",
    "sheet_pdf",
    "sheet_reopen",
    "sheets",
    "statement_csv",
    "statement_pdf",
    "statements",
    "subscribe",
    "subscription",
    "workshop",
]
