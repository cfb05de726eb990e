"""The régie as every page, e-mail and document names it: one legal name, its short name, and the
mentions a Moroccan invoice must carry (CGI art. 145: ICE, identifiant fiscal, taxe
professionnelle), its postal address and customer-service phone — all read from rak.conf
``[company]`` (``config/settings.py``), never written in a template.

- ``company()``: the values, as a frozen dataclass;
- templates rendered for a request get it as ``company`` (``rak_base.context_processors``);
- PDFs and e-mails, rendered without a request: ``{% load rak_company %}{% company as company %}``
  and ``email_signature()``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import get_language, gettext


@dataclass(frozen=True)
class Company:
    legal_name: str
    short_name: str
    address: str
    phone: str
    email: str
    ice: str
    if_number: str
    tp: str
    facebook_url: str = ""
    legal_name_ar: str = ""  # the Arabic legal name, as Moroccan bills and Arabic pages print it

    @property
    def name_local(self) -> str:
        """The legal name in the active language: the Arabic one on an Arabic page or document (when
        rak.conf gives it), else the French one (French and English)."""
        if self.legal_name_ar and (get_language() or "").startswith("ar"):
            return self.legal_name_ar
        return self.legal_name

    @property
    def name_with_short(self) -> str:
        """« Régie Autonome … de Kénitra (RAK) » (in Arabic on an Arabic page)."""
        return f"{self.name_local} ({self.short_name})"

    @property
    def tax_ids(self) -> str:
        """« ICE : … · IF : … · TP : … » (CGI art. 145)."""
        return gettext("ICE : %(ice)s · IF : %(if)s · TP : %(tp)s") % {
            "ice": self.ice,
            "if": self.if_number,
            "tp": self.tp,
        }


def company() -> Company:
    return Company(
        legal_name=settings.COMPANY_LEGAL_NAME,
        short_name=settings.COMPANY_SHORT_NAME,
        address=settings.COMPANY_ADDRESS,
        phone=settings.COMPANY_PHONE,
        email=settings.COMPANY_EMAIL,
        ice=settings.COMPANY_ICE,
        if_number=settings.COMPANY_IF,
        tp=settings.COMPANY_TP,
        facebook_url=getattr(settings, "COMPANY_FACEBOOK_URL", ""),
        legal_name_ar=getattr(settings, "COMPANY_LEGAL_NAME_AR", ""),
    )


def email_signature() -> str:
    """The footer of every e-mail the agency sends (added at delivery by the outbox)."""
    co = company()
    return gettext("%(name)s\n%(address)s\nService client : %(phone)s · %(email)s") % {
        "name": co.name_with_short,
        "address": co.address,
        "phone": co.phone,
        "email": co.email,
    }
