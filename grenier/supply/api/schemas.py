"""The supply API's request and response bodies."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Field, Schema

from grenier.core.schemas import Day, Id, InputSchema, Month, Quantity

BASE_UNITS = (
    "Integer in the product's base unit: grams for a product sold by the kg, else pieces or bunches "
    "(see the product's `base_unit`)."
)


class SupplyProductOut(Schema):
    id: int
    name: str
    unit: str = Field(..., description="The sales unit prices are per: kg, piece or bunch.")
    base_unit: str = Field(..., description="What quantities are counted in: g, piece or bunch.")


class WeekOut(Schema):
    monday: date
    status: str = Field(..., description="open, planned or published.")
    coordinator: str | None = Field(None, description="The coordinator of the week (rotation), if named.")
    planned_at: datetime | None = None
    published_at: datetime | None = None
    version: int = Field(..., description="Bumped on every change of the plan's lines.")
    may_coordinate: bool = Field(..., description="The caller may plan, adjust and publish this week.")


class DemandOut(Schema):
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    source: str = Field(..., description="contract (the schedule), kitchen or import.")


class AvailabilityOut(Schema):
    producer: int
    producer_name: str
    product: int
    product_name: str
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    minimum_lot: int = Field(..., description="The smallest lot worth sending. " + BASE_UNITS)
    minimum_lot_text: str


class PlanLineOut(Schema):
    id: int
    producer: int
    producer_name: str
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    quantity: int = Field(..., description=BASE_UNITS)
    quantity_text: str
    solver_quantity: int = Field(..., description="What the optimiser proposed. " + BASE_UNITS)
    adjusted: bool = Field(..., description="Changed by hand after the solve.")
    received_quantity: int | None = Field(None, description="Recorded by the kitchen. " + BASE_UNITS)
    received_text: str = ""
    discrepancy: int | None = Field(None, description="Received minus planned, once recorded. " + BASE_UNITS)


class ExplanationOut(Schema):
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    demand: int = Field(..., description=BASE_UNITS)
    supplied: int = Field(..., description=BASE_UNITS)
    unmet: int = Field(..., description=BASE_UNITS)
    demand_text: str
    supplied_text: str
    unmet_text: str
    reason_code: str = Field(
        ...,
        description="Empty when met; else not_declared, not_enough_declared, minimum_lots, below_step, "
        "solver_limit, other, changed (the lines changed after the solve) or not_planned (no plan yet).",
    )
    reason: str = Field(..., description="The reason in words, in the caller's language.")


class ProducerShareOut(Schema):
    producer: int
    producer_name: str
    share: float = Field(..., description="Agreed share of the group's volume this week (0 to 1).")
    volume: int = Field(..., description="Volume this week in grams-equivalent (pieces and bunches weighed).")
    target: float | None = Field(
        None, description="Volume the share and carried gap aimed at (planned weeks)."
    )
    gap: float = Field(
        ..., description="Gap carried to the next week, grams-equivalent (positive: still owed supply)."
    )


class StageOut(Schema):
    name: str = Field(
        ...,
        description="demand (volume met, first), lines and volume (a re-plan: delivery lines changed, then volume "
        "moved), shares_distance (weighted deviation from the shares plus distance, last).",
    )
    objective: float = Field(..., description="The delivered plan's value on this stage's own objective.")
    bound: float | None = Field(None, description="The best value proven possible.")
    gap: float = Field(..., description="Between the two, relative to the value.")
    proven: bool


class SolverOut(Schema):
    status: str = Field(..., description="Optimal when every stage is proven, else what stopped the solver.")
    proven_optimal: bool
    mip_gap: float = Field(..., description="The largest gap of the stages, each on its own objective.")
    seconds: float
    objective: float = Field(..., description="The delivered plan's shares-and-distance objective.")
    stages: list[StageOut] = Field([], description="The stages of the last plan computed, in order.")
    demand_total: int = Field(..., description="All demand of the week, base units summed over products.")
    supplied_total: int
    total_distance: float = Field(0.0, description="Sum of km x volume over the plan lines.")
    replans: int = Field(0, description="Re-plannings after shortfalls.")


class ShortfallOut(Schema):
    id: int
    producer: int
    producer_name: str
    product: int
    product_name: str
    declared_before: int = Field(..., description=BASE_UNITS)
    available: int = Field(..., description=BASE_UNITS)
    available_text: str
    cause: str
    reported_at: datetime


class ChangeOut(Schema):
    producer: int
    producer_name: str
    kitchen: int
    kitchen_name: str
    product: int
    product_name: str
    day: date
    before: int = Field(..., description=BASE_UNITS)
    after: int = Field(..., description=BASE_UNITS)
    before_text: str
    after_text: str
    reason: str = Field(..., description="adjusted (by hand) or shortfall.")
    shortfall: int | None = None
    at: datetime


class WeekDetailOut(WeekOut):
    demand: list[DemandOut]
    availability: list[AvailabilityOut]
    lines: list[PlanLineOut]
    explanations: list[ExplanationOut] = Field(
        ..., description="Per kitchen, product and day: demand, supply, unmet quantity and why."
    )
    producers: list[ProducerShareOut]
    solver: SolverOut | None = Field(None, description="The last solve's figures (the week's coordinators).")
    shortfalls: list[ShortfallOut]
    changes: list[ChangeOut] = Field(..., description="Changes of the published plan, latest first.")


class AvailabilityIn(InputSchema):
    producer: Id = Field(..., description="The farm's id: one you act for.")
    product: Id
    quantity: Quantity = Field(..., description="0 removes the declaration. " + BASE_UNITS)
    minimum_lot: Quantity = Field(0, description=BASE_UNITS)


class DemandIn(InputSchema):
    kitchen: Id = Field(..., description="The kitchen's id: one you act for.")
    product: Id
    day: Day = Field(..., description="A day of the week.")
    quantity: Quantity = Field(..., description="0 removes the line. " + BASE_UNITS)


class PlanLineIn(InputSchema):
    producer: Id
    kitchen: Id
    product: Id
    day: Day = Field(..., description="A day of the week.")
    quantity: Quantity = Field(..., description="0 removes the line. " + BASE_UNITS)


class ShortfallIn(InputSchema):
    producer: Id = Field(..., description="The farm's id: one you act for.")
    product: Id
    available: Quantity = Field(
        ..., description="What the farm will have after all, less than declared. " + BASE_UNITS
    )
    cause: str = Field("", max_length=300)
    idempotency_key: str | None = Field(
        None, min_length=1, max_length=100, description="Or the Idempotency-Key header; one is required."
    )


class ShortfallReportOut(ShortfallOut):
    changes: list[ChangeOut] = Field(..., description="The lines the re-planning changed.")


class ReceiptIn(InputSchema):
    line: Id = Field(..., description="The delivery line's id (a plan line of the week).")
    received_quantity: Quantity = Field(..., description=BASE_UNITS)
    note: str = Field("", max_length=300)


class PlanOut(Schema):
    status: str = Field(..., description="The week's status after solving: planned.")
    proven_optimal: bool
    seconds: float
    mip_gap: float
    demand_total: int = Field(..., description="Base units summed over products.")
    supplied_total: int
    lines: int = Field(..., description="Plan lines written.")
    unmet: list[ExplanationOut] = Field(..., description="Demand lines not fully met, and why.")


class AvailabilityPutOut(Schema):
    status: str = Field(..., description="The week's status after the change (a planned week reopens).")
    availability: list[AvailabilityOut] = Field(..., description="The declarations of the farms named.")


class DemandPutOut(Schema):
    status: str = Field(..., description="The week's status after the change (a planned week reopens).")
    demand: list[DemandOut] = Field(..., description="The demand of the kitchens named.")


class InvoiceOut(Schema):
    id: int
    reference: str = Field(..., description="The gapless number with its issuer's prefix.")
    kind: str = Field(..., description="invoice or credit_note.")
    document: str = Field(
        ...,
        description="invoice (the platform's to a kitchen), statement (a producer's self-billed monthly "
        "statement) or credit_note (correcting either).",
    )
    kitchen: int | None = Field(None, description="Set on the platform's invoices to a kitchen.")
    kitchen_name: str | None = None
    producer: int | None = Field(None, description="Set on a producer's self-billed statement.")
    producer_name: str | None = None
    month: date
    issued_on: date
    due_on: date | None = Field(None, description="When a kitchen's invoice is to be paid (payment terms).")
    total_cents: int
    producers_cents: int = Field(..., description="Production cost and margin: the farms' part.")
    service_fee_cents: int
    levy_cents: int = Field(..., description="The development fund's levy.")
    advance_deduction_cents: int = Field(..., description="Advance repayments deducted (statements).")
    net_cents: int = Field(..., description="What is to be paid: total less advance deductions.")
    total_text: str
    corrects: int | None = Field(None, description="The document a credit note corrects.")
    reason: str = ""
    paid_at: datetime | None = None


class IssueIn(InputSchema):
    month: Month


class PaidIn(InputSchema):
    reference: str = Field("", max_length=100, description="The bank transfer's reference, say.")


class RetainedOut(Schema):
    month: date
    service_fee_cents: int
    levy_cents: int
    billed_cents: int


class MovementOut(Schema):
    at: datetime
    kind: str
    amount_cents: int = Field(..., description="Positive into the fund, negative out (advances).")
    memo: str | None = Field(None, description="Given to coordinators only.")


class DevfundOut(Schema):
    balance_cents: int
    balance_text: str
    outstanding_advances_cents: int = Field(..., description="Advances still to be repaid.")
    retained: list[RetainedOut] = Field(..., description="Per month: service fees and levies retained.")
    movements: list[MovementOut] = Field(..., description="Latest movements of the fund, latest first.")


class SpendOut(Schema):
    total_cents: int = Field(..., description="Bought through the platform, before tax.")
    organic_cents: int
    quality_cents: int = Field(..., description="Quality and sustainable products, organic included.")
    organic_percent: float | None = Field(None, description="One decimal; null when nothing was bought.")
    quality_percent: float | None = None


class FamilyOut(SpendOut):
    family: str = Field(..., description="ma-cantine's famille_produits, e.g. FRUITS_ET_LEGUMES.")


class MonthOut(SpendOut):
    month: date


class EgalimOut(SpendOut):
    kitchen: int
    kitchen_name: str
    year: int
    organic_target_percent: int
    quality_target_percent: int
    organic_met: bool
    quality_met: bool
    lines: int = Field(..., description="Invoice lines counted.")
    families: list[FamilyOut]
    months: list[MonthOut]
