"""The refusals of the complaint services, each with the French message the user reads."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError


class ComplaintError(RakError):
    default_message = _("Cette action n'est pas possible sur cette réclamation.")


class ComplaintRefused(ComplaintError):
    """The filing is refused (bad reference, inactive category…)."""


class ComplaintThrottled(ComplaintError):
    default_message = _(
        "Vous avez envoyé plusieurs réclamations en peu de temps. Pour une urgence (fuite, coupure), "
        "appelez le centre de relation client ; sinon, réessayez plus tard."
    )


class ComplaintClosed(ComplaintError):
    default_message = _("Cette réclamation est clôturée : elle ne peut plus être modifiée.")


class ComplaintNotClosed(ComplaintError):
    default_message = _("Cette réclamation est encore en cours de traitement.")


class ComplaintReopenExpired(ComplaintError):
    default_message = _("Le délai pour rouvrir cette réclamation est dépassé : déposez une nouvelle réclamation.")


class ComplaintAlreadyRated(ComplaintError):
    default_message = _("Vous avez déjà donné votre appréciation sur cette réponse.")


class ComplaintRatingInvalid(ComplaintError):
    default_message = _("Choisissez une note de 1 à 5 étoiles.")


class ComplaintResultRequired(ComplaintError):
    default_message = _("Indiquez le résultat du traitement : il est envoyé au client par SMS.")


class ComplaintMessageRequired(ComplaintError):
    default_message = _("Écrivez votre message.")


class ComplaintStale(ComplaintError):
    default_message = _(
        "La réclamation a été modifiée entre-temps par quelqu'un d'autre : la page a été rechargée, "
        "vérifiez puis recommencez."
    )
