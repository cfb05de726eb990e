"""Back-office screens of the collections desk: each part has its own admin module, imported here."""

# one import line per part (reminders, cut-offs, payment plans, cash closing)
