"""What the simulator remembers of each payment it took: the merchant's request, the outcome,
the signed callback it sent (so it can be replayed) and every answer it got."""

from django.db import models


class SandboxTransaction(models.Model):
    class Outcome(models.TextChoices):
        PENDING = "PENDING", "Carte non encore saisie"
        APPROVED = "APPROVED", "Accepté"
        DECLINED = "DECLINED", "Refusé"
        THREE_DS_FAILED = "THREE_DS_FAILED", "Échec 3-D Secure"
        CANCELLED = "CANCELLED", "Annulé par le client"

    token = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField()
    oid = models.CharField(max_length=64, db_index=True)
    amount = models.CharField(max_length=20)
    request = models.JSONField(default=dict)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    callback = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.oid} {self.outcome}"
