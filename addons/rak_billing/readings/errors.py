"""Errors of the meter readings, each with the French message the user reads (translated into the
customer's language; the staff-only ones stay French, as the back office does)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from rak_base.errors import RakError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PHOTO_REQUIRED = _(
    "Vous devez joindre une photo de l'index de votre compteur sinon votre lecture ne sera pas prise en considération."
)


class ReadingError(RakError):
    default_message: StrOrPromise = _("Ce relevé ne peut pas être enregistré.")


class InvalidValue(ReadingError):
    """A value of an imported row or a form that cannot be read."""


class IndexBelowPrevious(ReadingError):
    """« L'index saisi est inférieur au dernier index relevé (X) »."""


class ReadingUnavailable(ReadingError):
    """The page-level refusals of the self-reading (shown in red at the top of the page)."""

    default_message = _("La relève de votre index n'est pas disponible pour ce dossier.")


class ReadingWindowClosed(ReadingUnavailable):
    pass


class ReadingAlreadyDone(ReadingUnavailable):
    default_message = _(
        "L'index de ce dossier a déjà été relevé pour cette période (par nos agents ou vous l'avez déjà envoyé)."
    )


class ReadingNeedsConfirmation(ReadingError):
    """An implausible self-reading index: shown next to the index with a « je confirme » box."""

    default_message = _("Vérifiez l'index saisi : la consommation qu'il donne est inhabituelle.")


class ReadingNotCorrectable(ReadingError):
    default_message = _(
        "Ce relevé ne peut plus être corrigé : la période de relève est close, ou il a déjà été vérifié ou facturé."
    )


class ReadingNotFound(ReadingError):
    """Another customer's reading or dossier, or none: a 404 for the API as for the portal."""

    code = "not_found"
    http_status = 404
    default_message = _("Relevé introuvable.")


class ReadingNotContestable(ReadingError):
    default_message = _("Ce relevé ne peut plus être contesté.")


class ReadingNotReviewable(ReadingError):
    default_message = "Ce relevé a déjà été traité."  # i18n: not for customers (staff review)


class ReviewRequestRefused(ReadingError):
    """Staff cannot send this reading to verification (rejected, an estimate, already asked)."""

    default_message = "Ce relevé ne peut pas être envoyé en vérification."  # i18n: not for customers


class ReviewReasonRequired(ReadingError):
    default_message = "Indiquez le motif du rejet : il est communiqué au client."  # i18n: not for customers


class ReadingImportRefused(ReadingError):
    """The whole file is refused (unreadable, a required column missing)."""

    default_message = "Le fichier ne peut pas être importé."  # i18n: not for customers (staff import)
