"""Reads of rak_customer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Upper
from django.db.models.lookups import Contains, StartsWith

from rak_base.phones import InvalidPhone, phone_normalize
from rak_customer.link_models import CustomerLink
from rak_customer.models import Contact, Customer, Dossier, PortalAccount
from rak_customer.validators import InvalidIdentity, identity_normalize


def _upper_starts(field: str, prefix: str) -> Q:
    """``UPPER(field) LIKE 'PREFIX%'``: the expression of the ``customer_<field>_upper_prefix``
    indexes (varchar_pattern_ops), written here rather than as a lookup added to every CharField."""
    return Q(StartsWith(Upper(field), prefix))


def customer_search_filter(term: str) -> Q:
    """Back-office search: code client, CIN, ICE, phone, e-mail or name.

    A term that reads as an identifier (code, CIN, ICE, phone, e-mail) is looked up exactly on
    its index; anything else is a name, matched upper-cased by prefix (served on PostgreSQL by
    ``UPPER(...) varchar_pattern_ops`` indexes) or inside the company name (pg_trgm index).
    Contacts are matched through ``pk IN (subquery)``, never an OR across a join."""
    term = (term or "").strip()
    if not term:
        return Q()
    compact = re.sub(r"[\s\-.]", "", term)
    # Identifier-like terms: each candidate reading is one exact, indexed lookup; the matching
    # primary keys are collected first (a few index probes) rather than OR-ed in one query,
    # which PostgreSQL would answer with a scan of the customer table.
    lookups: list[QuerySet[Any, Any]] = []
    if compact.isdigit() and len(compact) <= 12:
        lookups.append(Customer.objects.filter(code=compact).values_list("pk", flat=True))
    try:
        kind, value = identity_normalize(compact)
        identity = {"ice": value} if kind == "ICE" else {"cin": value}
        lookups.append(Customer.objects.filter(**identity).values_list("pk", flat=True))
    except InvalidIdentity:
        pass
    contact_value = None
    if "@" in term:
        contact_value = (Contact.Kind.EMAIL, term.lower())
    else:
        try:
            contact_value = (Contact.Kind.PHONE, phone_normalize(term))
        except InvalidPhone:
            pass
    if contact_value is not None:
        kind, value = contact_value
        lookups.append(Contact.objects.filter(kind=kind, value=value).values_list("customer_id", flat=True))
    if lookups:
        ids: set[int] = set()
        for lookup in lookups:
            ids.update(lookup)
        return Q(pk__in=sorted(ids))
    # A name: the whole phrase prefixes a last or first name (« El Ouafi »), or is contained in a
    # company name, or splits into first + last name in either order (« Maksen El Ouafi »).
    # Every branch is a prefix match the UPPER(...) indexes serve (the company one: pg_trgm).
    words = term.upper().split()[:5]
    phrase = " ".join(words)
    query = (
        _upper_starts("last_name", phrase)
        | _upper_starts("first_name", phrase)
        | Q(Contains(Upper("company_name"), phrase))  # customer_company_name_upper_trgm
    )
    for cut in range(1, len(words)):
        head, tail = " ".join(words[:cut]), " ".join(words[cut:])
        query |= _upper_starts("first_name", head) & _upper_starts("last_name", tail)
        query |= _upper_starts("first_name", tail) & _upper_starts("last_name", head)
    return query


def customer_by_identity(identity: str) -> Customer | None:
    kind, value = identity_normalize(identity)
    lookup = {"ice": value} if kind == "ICE" else {"cin": value}
    return Customer.objects.filter(**lookup).first()


def customer_sms_phone(customer: Customer) -> str | None:
    contact = customer.contacts.filter(kind=Contact.Kind.PHONE, is_sms=True).first()
    return contact.value if contact else None


def customer_email(customer: Customer) -> str | None:
    emails = customer.contacts.filter(kind=Contact.Kind.EMAIL).order_by("-is_primary_email", "-verified_at", "id")
    contact = emails.first()
    return contact.value if contact else None


def accounts_for_identifier(identifier: str) -> list[PortalAccount]:
    """The portal account a login identifier designates — never more than one, so that every
    spelling of it shares one account and one failure counter: the code client; an e-mail held by
    one account (a verified one wins when several hold it, else none); a phone only once it is
    verified by OTP (``contact_verified_phone_unique``: one customer at most)."""
    identifier = (identifier or "").strip()
    if not identifier:
        return []
    accounts = PortalAccount.objects.select_related("user", "customer")
    if "@" in identifier:
        holders = list(
            Contact.objects.filter(
                kind=Contact.Kind.EMAIL, value=identifier.lower(), customer__portal_account__isnull=False
            )
            .values_list("customer_id", "verified_at")
            .distinct()[:10]
        )
        customers = {customer_id for customer_id, _ in holders}
        if len(customers) > 1:
            customers = {customer_id for customer_id, verified_at in holders if verified_at is not None}
        if len(customers) != 1:
            return []
        return list(accounts.filter(customer_id=customers.pop()))
    by_code = list(accounts.filter(customer__code=identifier))
    if by_code:
        return by_code
    try:
        phone = phone_normalize(identifier)
    except InvalidPhone:
        return []
    return list(
        accounts.filter(
            customer__contacts__kind=Contact.Kind.PHONE,
            customer__contacts__value=phone,
            customer__contacts__verified_at__isnull=False,
        )[:1]
    )


def identifier_key(identifier: str) -> str:
    """One spelling per identifier (for failure counters when it designates no account): the
    phone in E.164, the e-mail in lower case, anything else stripped and lower-cased."""
    identifier = (identifier or "").strip()
    if "@" not in identifier:
        try:
            return phone_normalize(identifier)
        except InvalidPhone:
            pass
    return identifier.lower()


def customer_portal_user(customer_id: int):
    """The user of the customer's portal account (bell notifications, « Mes … » pages), or None."""
    account = PortalAccount.objects.select_related("user").filter(customer_id=customer_id).first()
    return account.user if account else None


def customer_for_user(user) -> Customer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    account = PortalAccount.objects.select_related("customer").filter(user=user).first()
    return account.customer if account else None


def customer_code_clean(code) -> str:
    """A code client as sent by a header or a session (Arabic-keyboard digits read as ASCII); ""
    for anything that cannot be one (too long, NUL bytes, not letters and digits)."""
    from rak_base.middleware import ARABIC_DIGITS

    code = str(code or "").strip().translate(ARABIC_DIGITS)
    if not code or len(code) > 12 or not code.isascii() or not code.isalnum():
        return ""
    return code


def customer_acting_for(user, *, code: str | None = None) -> Customer | None:
    """The customer ``user`` acts for: their own account's customer, or — ``code`` given — the
    customer of that code client if it is theirs or one they linked (issue 13: several codes
    clients in one account, an active rak_customer.CustomerLink). None when the user has no account
    or the code is not one of theirs (the portal falls back to the own customer, the API answers
    404: never another customer's data).

    One indexed query for the own customer (which also notes on ``user`` whether the account has
    any active link, for the header's switch: ``customer_link_choices``), plus one for a linked code."""
    if not getattr(user, "is_authenticated", False):
        return None
    has_links = CustomerLink.objects.filter(user_id=OuterRef("user_id"), unlinked_at__isnull=True)
    account = (
        PortalAccount.objects.select_related("customer")
        .annotate(rak_has_links=Exists(has_links))
        .filter(user=user)
        .first()
    )
    if account is None:
        return None
    own = account.customer
    user._rak_has_customer_links = account.rak_has_links  # noqa: SLF001  (a per-request note, see above)
    if code is None or str(code).strip() == "":
        return own
    wanted = customer_code_clean(code)
    if not wanted:
        return None
    if wanted.upper() == own.code.upper():
        return own
    if not account.rak_has_links:
        return None
    link = (
        CustomerLink.objects.select_related("customer")
        .filter(user=user, unlinked_at__isnull=True, customer__code=wanted)
        .first()
    )
    return link.customer if link else None


def customer_links_active(user) -> list[CustomerLink]:
    """The codes clients ``user`` linked and still holds, oldest first, with their customers
    (one query)."""
    return list(
        CustomerLink.objects.select_related("customer")
        .filter(user=user, unlinked_at__isnull=True)
        .order_by("linked_at", "id")
    )


@dataclass(frozen=True)
class CustomerChoice:
    """One entry of « Mes codes clients » / the header's switch."""

    code: str
    name: str
    label: str
    own: bool
    link_id: int | None = None
    linked_at: datetime | None = None


def customer_link_choices(user, *, alone: bool = False) -> list[CustomerChoice]:
    """The account's own code client first, then the ones it linked. Without ``alone``: [] when it
    linked none (nothing to switch between), and no query when ``customer_acting_for`` already saw
    so during this request; else two queries."""
    if not getattr(user, "is_authenticated", False):
        return []
    if not alone and getattr(user, "_rak_has_customer_links", None) is False:
        return []
    links = customer_links_active(user)
    if not links and not alone:
        return []
    own = customer_for_user(user)
    if own is None:
        return []
    choices = [CustomerChoice(code=own.code, name=own.display_name, label="", own=True)]
    choices += [
        CustomerChoice(
            code=link.customer.code,
            name=link.customer.display_name,
            label=link.label,
            own=False,
            link_id=link.pk,
            linked_at=link.linked_at,
        )
        for link in links
    ]
    return choices


def user_may_act_for(user, customer_id: int | None) -> bool:
    """Whether ``user`` may see what belongs to this customer: their own, or one they linked (a
    receipt, a payment order made while acting for a linked code client). One query."""
    if customer_id is None or not getattr(user, "is_authenticated", False):
        return False
    return (
        PortalAccount.objects.filter(user=user, customer_id=customer_id).exists()
        or CustomerLink.objects.filter(user=user, customer_id=customer_id, unlinked_at__isnull=True).exists()
    )


def customer_links_of_customer(customer_id: int) -> list[CustomerLink]:
    """Back office: every link to or from this customer's code, active first (one query)."""
    return list(
        CustomerLink.objects.select_related("user", "customer", "unlinked_by")
        .filter(customer_id=customer_id)
        .order_by(F("unlinked_at").desc(nulls_first=True), "-linked_at")
    )


def customer_profile(customer_id: int) -> Customer:
    """The customer with contacts, dossiers (premises, meter) in a fixed number of queries."""
    return (
        Customer.objects.select_related("agency", "portal_account__user")
        .prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("kind", "-is_sms", "-is_primary_email", "id")),
            Prefetch("dossiers", queryset=Dossier.objects.select_related("premises", "meter").order_by("number")),
        )
        .get(pk=customer_id)
    )
