"""Reads of rak_customer."""

from __future__ import annotations

import re

from django.db.models import Prefetch, Q

from rak_base.phones import InvalidPhone, phone_normalize
from rak_customer.models import Contact, Customer, Dossier, PortalAccount
from rak_customer.validators import InvalidIdentity, identity_normalize


def customer_search_filter(term: str) -> Q:
    """Back-office search: code client, CIN, ICE, phone, e-mail or name. Exact matches on the
    identifiers (indexed), prefix match on names."""
    term = (term or "").strip()
    if not term:
        return Q()
    query = Q(code=term)
    compact = re.sub(r"[\s\-.]", "", term)
    try:
        kind, value = identity_normalize(compact)
        query |= Q(ice=value) if kind == "ICE" else Q(cin=value)
    except InvalidIdentity:
        pass
    if compact.isdigit() and len(compact) == 15:
        query |= Q(ice=compact)
    try:
        phone = phone_normalize(term)
        query |= Q(contacts__kind=Contact.Kind.PHONE, contacts__value=phone)
    except InvalidPhone:
        pass
    if "@" in term:
        query |= Q(contacts__kind=Contact.Kind.EMAIL, contacts__value=term.lower())
    words = term.split()
    if words and not compact.isdigit():
        name_q = Q()
        for word in words:
            name_q &= Q(last_name__istartswith=word) | Q(first_name__istartswith=word) | Q(company_name__icontains=word)
        query |= name_q
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
    """Portal accounts a login identifier may designate: code client, e-mail or phone."""
    identifier = (identifier or "").strip()
    if not identifier:
        return []
    accounts = PortalAccount.objects.select_related("user", "customer")
    if "@" in identifier:
        return list(
            accounts.filter(
                customer__contacts__kind=Contact.Kind.EMAIL, customer__contacts__value=identifier.lower()
            ).distinct()[:5]
        )
    by_code = list(accounts.filter(customer__code=identifier))
    if by_code:
        return by_code
    try:
        phone = phone_normalize(identifier)
    except InvalidPhone:
        return []
    return list(
        accounts.filter(customer__contacts__kind=Contact.Kind.PHONE, customer__contacts__value=phone).distinct()[:5]
    )


def customer_for_user(user) -> Customer | None:
    if not getattr(user, "is_authenticated", False):
        return None
    account = PortalAccount.objects.select_related("customer").filter(user=user).first()
    return account.customer if account else None


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
