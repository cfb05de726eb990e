from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class NewsItem(models.Model):
    """« Les actualités de la RAK » shown in the dashboard slider, managed in the back office."""

    title = models.CharField(_("titre"), max_length=160)
    summary = models.TextField(_("texte"), max_length=600)
    link = models.URLField(_("lien « en savoir plus »"), blank=True)
    published_at = models.DateTimeField(_("publié à partir du"))
    expires_at = models.DateTimeField(_("jusqu'au"), null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("ordre"), default=0)
    is_active = models.BooleanField(_("actif"), default=True)

    class Meta:
        verbose_name = _("actualité")
        verbose_name_plural = _("actualités")
        ordering = ["position", "-published_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("published_at")), name="news_dates"
            ),
        ]

    def __str__(self) -> str:
        return self.title
