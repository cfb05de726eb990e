"""Back-office screens of the collections desk: each part has its own admin module, imported here."""

# one import line per part (reminders, cut-offs, payment plans, cash closing)
from rak_collections import admin_cash, admin_cutoffs, admin_plans, admin_reminders  # noqa: F401 - dunning, plans
