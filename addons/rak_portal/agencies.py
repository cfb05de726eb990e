"""« Nos agences »: each agency as the portal's page and the API show it (address with its city,
the phone as Moroccans write it, a directions link)."""

from __future__ import annotations

from rak_customer.models import Agency


def _national_phone(e164: str) -> str:
    """« +212537372100 » -> « 05 37 37 21 00 » (Moroccan numbers in pairs, as they are written)."""
    digits = "".join(ch for ch in e164 if ch.isdigit())
    if digits.startswith("212") and len(digits) == 12:
        digits = "0" + digits[3:]
    if len(digits) != 10:
        return e164
    return " ".join(digits[i : i + 2] for i in range(0, 10, 2))


def _agency_card(agency: Agency) -> dict[str, object]:
    address = agency.address
    if agency.city and not address.rstrip(" .").casefold().endswith(agency.city.casefold()):
        address = f"{address}, {agency.city}"
    directions = ""
    if agency.latitude is not None and agency.longitude is not None:
        # str() of the Decimals: a point, whatever the page's locale (« 34,2611 » broke the link)
        directions = f"https://www.google.com/maps/dir/?api=1&destination={agency.latitude},{agency.longitude}"
    return {
        "agency": agency,
        "address": address,
        "phone": _national_phone(agency.phone) if agency.phone else "",
        "tel": agency.phone.replace(" ", ""),
        "directions": directions,
    }


def agency_cards() -> list[dict[str, object]]:
    """Every agency, by name (one query)."""
    return [_agency_card(agency) for agency in Agency.objects.order_by("name")]
