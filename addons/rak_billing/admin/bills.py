"""Back-office screens (filled by the billing issue)."""
