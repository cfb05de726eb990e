"""Meter readings: agents' imports, the customer's self-reading, the checks they share, the review
of abnormal readings, estimates and demo history.

- ``rules``: pure functions (windows, index and abnormal checks, averages, estimate, parsing);
- ``selectors``: reads (bulk histories, self-reading state, portal history);
- ``services``: ``reading_self_submit``, ``reading_self_correct`` / ``reading_self_cancel``,
  ``reading_contest``, ``reading_review``, ``reading_estimate`` / ``readings_estimate``;
- ``imports``: ``reading_import_file`` (CSV/XLSX, per-row report, idempotent, the file kept),
  ``reading_import_archive`` (an import is archived, never deleted);
- ``demo``: ``readings_generate_history``, ``reading_rounds_ensure``.

Other code imports from here (``from rak_billing.readings import reading_estimate``).
"""

from rak_billing.readings.demo import reading_rounds_ensure, readings_generate_history
from rak_billing.readings.errors import (
    PHOTO_REQUIRED,
    IndexBelowPrevious,
    InvalidValue,
    ReadingAlreadyDone,
    ReadingError,
    ReadingImportRefused,
    ReadingNeedsConfirmation,
    ReadingNotContestable,
    ReadingNotCorrectable,
    ReadingNotFound,
    ReadingNotReviewable,
    ReadingUnavailable,
    ReadingWindowClosed,
    ReviewReasonRequired,
    ReviewRequestRefused,
)
from rak_billing.readings.imports import ImportResult, external_key, reading_import_archive, reading_import_file
from rak_billing.readings.selectors import (
    SelfReadingState,
    customer_reading_dossiers,
    last_readings,
    reading_history,
    reading_history_queryset,
    self_reading_states,
)
from rak_billing.readings.services import (
    HOOK_READING_REVIEWED,
    reading_contest,
    reading_estimate,
    reading_review,
    reading_review_request,
    reading_self_cancel,
    reading_self_correct,
    reading_self_submit,
    readings_estimate,
    self_reading_check_available,
    self_reading_saved_message,
    self_reading_selected,
)

__all__ = [
    "PHOTO_REQUIRED",
    "ImportResult",
    "IndexBelowPrevious",
    "InvalidValue",
    "ReadingAlreadyDone",
    "ReadingError",
    "ReadingImportRefused",
    "ReadingNeedsConfirmation",
    "ReadingNotContestable",
    "ReadingNotCorrectable",
    "ReadingNotFound",
    "ReadingNotReviewable",
    "ReadingUnavailable",
    "ReadingWindowClosed",
    "ReviewReasonRequired",
    "ReviewRequestRefused",
    "HOOK_READING_REVIEWED",
    "reading_review_request",
    "customer_reading_dossiers",
    "external_key",
    "reading_contest",
    "reading_estimate",
    "reading_history",
    "reading_import_archive",
    "reading_import_file",
    "reading_review",
    "reading_rounds_ensure",
    "reading_self_cancel",
    "reading_self_correct",
    "reading_self_submit",
    "readings_estimate",
    "readings_generate_history",
    "self_reading_check_available",
    "self_reading_selected",
    "self_reading_saved_message",
    "SelfReadingState",
    "last_readings",
    "reading_history_queryset",
    "self_reading_states",
]
