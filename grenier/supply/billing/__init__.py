"""The platform's money: monthly invoices to kitchens, producers' self-billed statements, credit notes, cash
advances repaid by deduction, the development fund. Every amount is also a ledger entry (signs in ``accounts``).

Documents and their ledger legs:

* a kitchen's invoice (issued by the platform): kitchen -total, each producer +its part, fees +fee, devfund +levy;
* a producer's monthly statement (self-billed in the producer's name): the parts were already credited by the
  kitchens' invoices, so only the advance deduction moves: producer -deduction, devfund +deduction;
* a credit note: the exact opposite legs of what it corrects. A credit note on a kitchen's invoice also writes,
  for the lines already on a producer's statement, the matching credit note on that statement (no legs: the
  producer's part was reversed by the kitchen's credit note), so a statement always says what the producer's
  account holds;
* paid: a kitchen's payment (kitchen +total, external payments -total), a payout to a producer (producer -net,
  payouts +net).

Numbers are gapless per issuer: ``InvoiceSeries.last_number`` is bumped under a row lock in the transaction that
writes the document, so a failed write leaves no hole and two writers never share a number. The series lock also
makes every issuer's writers take turns, which is what keeps a plan line from being billed twice.

Lock order (no cycle, so no deadlock): the platform's series, then a producer's series, then advances, then the
ledger's accounts (their own order). Marking paid locks the invoice rows, then the accounts.
"""

from __future__ import annotations

from grenier.supply.billing.credit_notes import credit_note_issue, credit_requested
from grenier.supply.billing.devfund import (
    Movement,
    advance_grant,
    advances_of,
    devfund_balance,
    devfund_contribute,
    devfund_movements,
    outstanding_advances,
)
from grenier.supply.billing.invoices import (
    amount_due,
    invoice_mark_paid,
    invoices_issue,
    kitchen_invoice_issue,
    producer_statement_issue,
    with_unpaid_notes,
)
from grenier.supply.billing.pending import (
    PendingKitchen,
    PendingLine,
    PendingProducer,
    Preview,
    Remaining,
    StatementRow,
    billing_preview,
    pending_kitchen_lines,
    uncredited,
)
from grenier.supply.billing.selectors import (
    Retained,
    document_for,
    documents,
    documents_for,
    kitchen_invoices,
    producer_statements,
    retained_by_month,
)
from grenier.supply.billing.series import (
    CONTRIBUTIONS,
    LATE_PENALTY_LEGAL_RATE_MULTIPLE,
    RECOVERY_INDEMNITY_CENTS,
    contract_line_of,
    document_of,
    due_on,
    egalim_labels_of,
    fit_key,
    reference_of,
    series_for,
    series_prefix,
)

__all__ = [
    "CONTRIBUTIONS",
    "LATE_PENALTY_LEGAL_RATE_MULTIPLE",
    "RECOVERY_INDEMNITY_CENTS",
    "Movement",
    "PendingKitchen",
    "PendingLine",
    "PendingProducer",
    "Preview",
    "Remaining",
    "Retained",
    "StatementRow",
    "advance_grant",
    "advances_of",
    "amount_due",
    "billing_preview",
    "contract_line_of",
    "credit_note_issue",
    "credit_requested",
    "devfund_balance",
    "devfund_contribute",
    "devfund_movements",
    "document_for",
    "document_of",
    "documents",
    "documents_for",
    "due_on",
    "egalim_labels_of",
    "fit_key",
    "invoice_mark_paid",
    "invoices_issue",
    "kitchen_invoice_issue",
    "kitchen_invoices",
    "outstanding_advances",
    "pending_kitchen_lines",
    "producer_statement_issue",
    "producer_statements",
    "reference_of",
    "retained_by_month",
    "series_for",
    "series_prefix",
    "uncredited",
    "with_unpaid_notes",
]
