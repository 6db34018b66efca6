"""One module per theme; importing them fills the registry (``ReportsConfig.ready``)."""

from grenier.reports.indicators import access, activity, cooperation, democracy, food_system

__all__ = ["access", "activity", "cooperation", "democracy", "food_system"]
