"""Domain errors. Each carries the French message a user should read."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class RakError(Exception):
    """Base of every domain error; ``message`` is shown to the user as is."""

    default_message: StrOrPromise = gettext_lazy("Une erreur s'est produite, veuillez réessayer.")

    def __init__(self, message: StrOrPromise | None = None, **params: object) -> None:
        # a gettext_lazy message is turned into text here, in the language active where it is raised
        self.message = str(message or self.default_message)
        self.params = params
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
