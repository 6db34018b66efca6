"""Rows of the buying groups as the API's bodies."""

from __future__ import annotations

from grenier.orders import selectors
from grenier.orders.api.schemas import (
    CatalogueProductOut,
    CycleOut,
    CycleProductOut,
    OrderLineOut,
    OrderOut,
    PotOut,
)
from grenier.orders.models import (
    CatalogueProduct,
    Order,
    OrderCycle,
    OrderStatus,
)


def _product_out(p: CatalogueProduct) -> CatalogueProductOut:
    return CatalogueProductOut(
        id=p.pk,
        producer=p.producer_id,
        producer_name=p.producer.farm_name,
        name=p.name,
        unit=p.unit,
        price_cents=p.price_cents,
        case_size=p.case_size,
        stock=p.stock,
        is_active=p.is_active,
    )


def _cycle_out(cycle: OrderCycle) -> CycleOut:
    figures = selectors.cycle_figures(cycle)
    return CycleOut(
        id=cycle.pk,
        group=cycle.group_id,
        group_name=cycle.group.name,
        name=cycle.name,
        state=cycle.state,
        opens_at=cycle.opens_at,
        closes_at=cycle.closes_at,
        delivery_date=cycle.delivery_date,
        pickup_point=cycle.pickup_point.name,
        round_to_cases=cycle.round_to_cases,
        pot=PotOut(
            now_cents=figures.pot_now_cents,
            cycle_delta_cents=figures.pot_delta_cents,
            after_close_cents=figures.pot_after_cents,
            households_cents=figures.households_cents,
            full_cents=figures.full_cents,
        ),
        products=[
            CycleProductOut(
                id=t.product.pk,
                producer=t.product.producer_id,
                producer_name=t.product.producer.farm_name,
                name=t.product.name,
                unit=t.product.unit,
                price_cents=t.product.price_cents,
                case_size=t.product.case_size,
                left=t.left,
            )
            for t in selectors.product_totals(cycle)
        ],
    )


def _order_out(order: Order, pot_after: int | None = None) -> OrderOut:
    receipt = selectors.receipt(order)
    return OrderOut(
        id=order.pk,
        cycle=order.cycle_id,
        status=order.status,
        tier_percent=order.tier_percent,
        full_cents=receipt.full_cents if order.status == OrderStatus.PLACED else 0,
        due_cents=receipt.due_cents if order.status == OrderStatus.PLACED else 0,
        pot_flagged=order.pot_flagged,
        pot_after_close_cents=pot_after,
        lines=[
            OrderLineOut(
                product=line.cycle_product_id,
                name=line.cycle_product.name,
                quantity=line.quantity,
                final_quantity=line.final_quantity,
                price_cents=line.cycle_product.price_cents,
            )
            for line in receipt.lines
        ],
    )
