"""What other addons may call from rak_customer."""

from rak_customer.dossier_history import DossierOperation, customer_dossier, customer_dossiers, dossier_operations
from rak_customer.dossiers import (
    BillingModeRefused,
    DossierError,
    DossierNotTerminable,
    MeterAlreadyRegistered,
    MeterNumberMissing,
    customer_promote_client,
    dossier_billing_mode_set,
    dossier_open,
    dossier_tariff_category_set,
    dossier_terminate,
    meter_register,
    premises_create,
)
from rak_customer.models import Customer, Dossier, Meter, Premises, Service
from rak_customer.selectors import customer_email, customer_for_user, customer_portal_user, customer_sms_phone

__all__ = [
    "DossierOperation",
    "customer_dossier",
    "customer_dossiers",
    "dossier_operations",
    "BillingModeRefused",
    "Customer",
    "Dossier",
    "DossierError",
    "DossierNotTerminable",
    "Meter",
    "MeterAlreadyRegistered",
    "MeterNumberMissing",
    "Premises",
    "Service",
    "customer_email",
    "customer_for_user",
    "customer_portal_user",
    "customer_promote_client",
    "customer_sms_phone",
    "dossier_billing_mode_set",
    "dossier_open",
    "dossier_terminate",
    "dossier_tariff_category_set",
    "meter_register",
    "premises_create",
]
