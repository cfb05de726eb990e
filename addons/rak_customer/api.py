"""What other addons may call from rak_customer."""

from rak_customer.models import Customer, Dossier, Service
from rak_customer.selectors import customer_email, customer_for_user, customer_sms_phone

__all__ = ["Customer", "Dossier", "Service", "customer_email", "customer_for_user", "customer_sms_phone"]
