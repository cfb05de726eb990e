"""Back-office screens of rak_billing, one module per area (each registers its own admins)."""

from rak_billing.admin import bills, readings, runs, tariffs  # noqa: F401
from rak_billing.admin import direct_debit  # noqa: F401  (prélèvements bancaires)
from rak_billing.admin import refunds  # noqa: F401  (remboursements)
