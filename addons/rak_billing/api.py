"""What other addons may call from rak_billing (higher addons: payments, requests, portal)."""

from rak_billing.billing import BillingRunRefused, billing_run_create
from rak_billing.ledger import (
    CreditNoteRefused,
    OtherLine,
    PaymentRefused,
    UnableToIssueBill,
    bill_is_exigible,
    bill_issue_other,
    bill_outstanding,
    bills_exigible,
    bills_open,
    bills_with_outstanding,
    credit_note_issue,
    customer_balance,
    payment_record,
)
from rak_billing.pdf import bill_pdf

__all__ = [
    "BillingRunRefused",
    "CreditNoteRefused",
    "OtherLine",
    "PaymentRefused",
    "UnableToIssueBill",
    "bill_is_exigible",
    "bill_issue_other",
    "bill_outstanding",
    "bill_pdf",
    "billing_run_create",
    "bills_exigible",
    "bills_open",
    "bills_with_outstanding",
    "credit_note_issue",
    "customer_balance",
    "payment_record",
]
