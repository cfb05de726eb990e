"""Mark EXPIRED the payment orders left unpaid past ``[cmi] order_expiry_minutes`` (cron: every
15 minutes). A late approved callback still pays an expired order."""

from django.core.management.base import BaseCommand

from rak_base import clock
from rak_payment_cmi.services import payment_orders_expire


class Command(BaseCommand):
    help = "Expire les ordres de paiement en ligne restés sans paiement."

    def handle(self, *args, **options):
        count = payment_orders_expire(now=clock.now())
        self.stdout.write(f"{count} ordre(s) de paiement expiré(s).")
