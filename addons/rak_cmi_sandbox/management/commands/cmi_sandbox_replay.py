"""Send a payment's signed callback again, N copies at once, to exercise the portal's
exactly-once handling: ``manage.py cmi_sandbox_replay <oid> --duplicates 20``."""

from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from rak_cmi_sandbox.gateway import callback_send
from rak_cmi_sandbox.models import SandboxTransaction


class Command(BaseCommand):
    help = "Rejoue la notification (callback) d'une transaction du simulateur CMI, en N exemplaires simultanés."

    def add_arguments(self, parser):
        parser.add_argument("oid")
        parser.add_argument("--duplicates", type=int, default=1, help="envois simultanés (1 à 200)")
        parser.add_argument("--timeout", type=float, default=None, help="délai d'attente par envoi, en secondes")

    def handle(self, *args, oid, duplicates, timeout, **options):
        # a transaction cancelled on the card page has no notification: CMI sends none (« Annuler »)
        done = SandboxTransaction.objects.filter(oid=oid).exclude(
            outcome__in=(SandboxTransaction.Outcome.PENDING, SandboxTransaction.Outcome.CANCELLED)
        )
        done = done.order_by("-created_at")
        tx = done.filter(outcome=SandboxTransaction.Outcome.APPROVED).first() or done.first()
        if tx is None:
            raise CommandError(f"Aucune transaction du simulateur pour l'oid {oid}.")
        if not 1 <= duplicates <= 200:
            raise CommandError("--duplicates : entre 1 et 200.")
        answers = callback_send(tx, duplicates=duplicates, timeout=timeout)
        counts = Counter(f"{answer['status']} {answer['body']}" for answer in answers)
        self.stdout.write(f"{tx.oid} ({tx.get_outcome_display()}) : {len(answers)} envoi(s)")
        for answer, count in counts.most_common():
            self.stdout.write(f"  {count} × {answer}")
