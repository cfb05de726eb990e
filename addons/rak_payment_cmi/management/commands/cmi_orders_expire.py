"""Mark EXPIRED the payment orders left unpaid past ``[cmi] order_expiry_minutes``, by hand: the
workers' scheduler runs the same every 15 minutes (``rak_payment_cmi.jobs``). A late approved
callback still pays an expired order. Advance invoices whose orders all expired are then
cancelled by a credit note."""

from django.core.management.base import BaseCommand

from rak_base import clock
from rak_payment_cmi.paying import advance_invoices_cancel_unpaid
from rak_payment_cmi.services import payment_orders_expire


class Command(BaseCommand):
    help = "Expire les ordres de paiement en ligne restés sans paiement."

    def handle(self, *args, **options):
        now = clock.now()
        count = payment_orders_expire(now=now)
        self.stdout.write(f"{count} ordre(s) de paiement expiré(s).")
        cancelled = advance_invoices_cancel_unpaid(now=now)
        if cancelled:
            self.stdout.write(f"{cancelled} facture(s) d'avance non payée(s) annulée(s) par avoir.")
