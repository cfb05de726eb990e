"""What other addons may call from rak_billing (higher addons: payments, requests, portal).

« Facture réglée »: subscribe to ``HOOK_BILLS_SETTLED`` (``bill_ids=[...]``, ``customer_ids=[...]``,
``customer_id=`` — None when the step settled bills of several customers, as a network payments
file does) in ``AppConfig.ready()``; it fires in the transaction that sets ``settled_at``, whatever
the channel (counter, network import, CMI, credit applied, credit note), once per step with the
bills newly settled. A subscriber should cost a fixed number of queries per call."""

from rak_billing.billing import BillingRunRefused, billing_run_create
from rak_billing.closing import (
    ClosingError,
    FinalReadingRefused,
    TerminationRow,
    customer_terminations,
    deposit_release,
    dossier_accounts_close,
    dossier_closings,
    final_bill_issue,
    final_reading_record,
    final_readings,
)
from rak_billing.direct_debit import (
    DirectDebitError,
    MandateRefused,
    mandate_active,
    mandate_create,
    mandate_revoke,
)
from rak_billing.engine import EngineError, fmt_qty
from rak_billing.ledger import (
    HOOK_BILLS_REOPENED,
    HOOK_BILLS_SETTLED,
    CreditNoteRefused,
    OtherLine,
    PaymentRefused,
    ReversalRefused,
    UnableToIssueBill,
    bill_is_exigible,
    bill_issue_other,
    bill_outstanding,
    bills_exigible,
    bills_open,
    bills_with_outstanding,
    credit_note_issue,
    customer_balance,
    payment_bounds_check,
    payment_max_amount,
    payment_record,
    payment_record_staff,
    payment_reverse,
)
from rak_billing.line_labels import bill_line_label, tranche_notice
from rak_billing.models import Refund
from rak_billing.online_fees import (
    OnlineFeeRefused,
    online_fee_invoice_issue,
    online_fee_invoice_number,
    vat_rate_online_fee,
)
from rak_billing.pdf import bill_pdf
from rak_billing.readings.errors import ReadingError
from rak_billing.readings.selectors import customer_self_readings
from rak_billing.readings.services import (
    HOOK_READING_REVIEWED,
    reading_installation_record,
    reading_review_request,
)
from rak_billing.receipts import (
    bill_payment_description,
    payment_receipt_context,
    payment_receipt_pdf,
    receipt_details_register,
    receipt_number,
)
from rak_billing.refunds import (
    ORIGIN_LABELS,
    RefundableItem,
    RefundCancelRefused,
    RefundRefused,
    customer_refund,
    customer_refunds,
    customer_unpaid_amount,
    refund_cancel,
    refund_credit_available,
    refund_for_external_id,
    refund_receipt_number,
    refund_record,
    refundable_items,
)
from rak_billing.tariffs import SIMULATED_SERVICES, TariffNotFound, simulate, tariff_book, vat_rate_other

__all__ = [
    "bill_line_label",
    "tranche_notice",
    "customer_self_readings",
    "ORIGIN_LABELS",
    "Refund",
    "RefundCancelRefused",
    "RefundRefused",
    "RefundableItem",
    "customer_refund",
    "customer_refunds",
    "customer_unpaid_amount",
    "refund_cancel",
    "refund_credit_available",
    "refund_for_external_id",
    "refund_receipt_number",
    "refund_record",
    "refundable_items",
    "HOOK_BILLS_REOPENED",
    "HOOK_BILLS_SETTLED",
    "SIMULATED_SERVICES",
    "BillingRunRefused",
    "CreditNoteRefused",
    "EngineError",
    "OnlineFeeRefused",
    "OtherLine",
    "PaymentRefused",
    "ReversalRefused",
    "TariffNotFound",
    "UnableToIssueBill",
    "bill_is_exigible",
    "bill_issue_other",
    "bill_outstanding",
    "bill_payment_description",
    "bill_pdf",
    "billing_run_create",
    "bills_exigible",
    "bills_open",
    "bills_with_outstanding",
    "credit_note_issue",
    "customer_balance",
    "fmt_qty",
    "online_fee_invoice_issue",
    "online_fee_invoice_number",
    "payment_receipt_context",
    "payment_receipt_pdf",
    "payment_bounds_check",
    "payment_max_amount",
    "payment_record",
    "payment_record_staff",
    "payment_reverse",
    "receipt_details_register",
    "receipt_number",
    "reading_installation_record",
    # a reading sent to verification from a complaint (issue 11), and the reviewer's decision
    "HOOK_READING_REVIEWED",
    "ReadingError",
    "reading_review_request",
    "simulate",
    "tariff_book",
    "vat_rate_online_fee",
    "vat_rate_other",
    # résiliation (rak_billing.closing)
    "ClosingError",
    "FinalReadingRefused",
    "TerminationRow",
    "customer_terminations",
    "deposit_release",
    "dossier_accounts_close",
    "dossier_closings",
    "final_bill_issue",
    "final_reading_record",
    "final_readings",
    # domiciliation bancaire (rak_billing.direct_debit)
    "DirectDebitError",
    "MandateRefused",
    "mandate_active",
    "mandate_create",
    "mandate_revoke",
]
