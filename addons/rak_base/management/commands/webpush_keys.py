"""``manage.py webpush_keys``: a new VAPID key pair for Web Push, to paste into rak.conf ``[push]``
(generate it once: changing it unsubscribes every browser)."""

from django.core.management.base import BaseCommand

from rak_base.push import vapid_keys_generate


class Command(BaseCommand):
    help = "Affiche une nouvelle paire de clés VAPID (Web Push) pour la section [push] de rak.conf."

    def handle(self, *args, **options):
        private, public = vapid_keys_generate()
        self.stdout.write(
            "[push]\n"
            "; garder la clé privée secrète ; en changer désabonne tous les navigateurs\n"
            f"vapid_public_key = {public}\n"
            f"vapid_private_key = {private}\n"
        )
