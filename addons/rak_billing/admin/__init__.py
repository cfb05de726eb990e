"""Back-office screens of rak_billing, one module per area (each registers its own admins)."""

from rak_billing.admin import (  # noqa: F401 - each module registers its admins
    bills,
    direct_debit,
    readings,
    refunds,
    runs,
    tariffs,
)
