"""Demo data: a deterministic, realistic population of RAK customers in Kénitra, bulk-loaded.

``DemoGenerator`` is pure (no database): given a seed, an ``as_of`` date and starting primary
keys it yields batches of rows (tuples in the column order of ``COLUMNS``). Each customer draws
from its own ``random.Random`` stream (seed, index), so customer *i* is the same whatever
``--customers`` is and whatever date the data is generated on (only dates move with ``as_of``);
the only cross-customer state is the sets that keep CIN, ICE, phones and e-mails unique.

``demo_data_load`` writes the batches with explicit primary keys (children reference parents
without a round trip): PostgreSQL ``COPY`` through psycopg (``bulk_create`` on request, to
compare). Neither path fires signals, so django-simple-history records no
« création » rows for demo data — a bulk load is not a user action; the first real change of a
record starts its history.

Phones are syntactically valid Moroccan mobiles and may belong to real people: never load demo
data into a database whose outbox is delivered by a real SMS gateway. E-mails use the reserved
example domains (RFC 2606). ``demo_data_load`` refuses to run in production mode.
"""

from __future__ import annotations

import math
import random
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from rak_base.errors import RakError
from rak_base.sequences import sequence_ensure_at_least
from rak_customer.models import Agency, Contact, Customer, Dossier, Meter, PortalAccount, Premises, Service
from rak_customer.services import CUSTOMER_CODE_SEQUENCE, CUSTOMER_CODE_START

DEMO_CUSTOMER_PASSWORD = "Demo-RAK-2026"  # noqa: S105 - documented demo login
DEMO_STAFF_USERNAME = "agent.demo"
DEMO_STAFF_PASSWORD = "Agent-RAK-2026"  # noqa: S105 - documented demo login
DEMO_ADMIN_USERNAME = "admin"
DEMO_ADMIN_PASSWORD = "Admin-RAK-2026"  # noqa: S105 - documented demo login
DEMO_STAFF_GROUP = "superviseur"
DEMO_DIRECTION_USERNAME = "direction.demo"  # the reports (/backoffice/rapports/) as the direction sees them
DEMO_DIRECTION_PASSWORD = "Direction-RAK-2026"  # noqa: S105 - documented demo login
DEMO_DIRECTION_GROUP = "direction"

DEFAULT_CUSTOMERS = 300
DEFAULT_SEED = 2026
DEFAULT_BATCH_SIZE = 5000


class DemoDataRefused(RakError):
    default_message = "Les données de démonstration ne peuvent pas être chargées dans cette base."


# --- reference data -----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.split(",") if w.strip()]


MALE_FIRST_NAMES = _words(
    "Mohamed, Mohammed, Ahmed, Youssef, Hamza, Omar, Othmane, Abdelilah, Abderrahim, Mustapha, Rachid,"
    "Said, Karim, Hassan, Hicham, Khalid, Driss, Nabil, Mehdi, Ayoub, Anas, Ilyas, Amine, Soufiane,"
    "Zakaria, Yassine, Brahim, Abdelaziz, Abdellah, Noureddine, Jamal, Adil, Tarik, Redouane, Lahcen,"
    "Ismail, Badr, Bilal, Marouane, Reda, Aziz, Abdelkader, Abdelhak, Abdeslam, Bouchaib, Larbi, Miloud,"
    "Jilali, Mbarek, Hassane, Abdelmajid, Abdelghani, Mourad, Fouad, Najib, Hamid, Aziz, Salah, Hakim,"
    "Younes, Ali, Imad, Walid, Saad, Taha, Adam, Rayane, Ghali, Nizar, Abdessamad, Abdelhadi, Kamal,"
    # Amazigh names
    "Idir, Amazigh, Massinissa, Yuba, Aksel, Anir, Ayour, Jugurtha, Mazigh, Amayas, Ghilas, Izem,"
    "Yanis, Aghilas, Ayyur, Anzar, Maksen, Moha, Hammou, Itri, Uzziwen, Amnay"
)
FEMALE_FIRST_NAMES = _words(
    "Fatima, Khadija, Aicha, Malika, Naima, Latifa, Rachida, Samira, Nadia, Zineb, Meryem, Salma, Hajar,"
    "Imane, Sanaa, Hanane, Loubna, Houda, Ghizlane, Asmae, Siham, Kawtar, Oumaima, Chaimae, Hind, Nora,"
    "Saida, Zahra, Fatima Zahra, Khaoula, Wiam, Rim, Sara, Yasmine, Hiba, Ilham, Btissam, Souad, Amal,"
    "Najat, Karima, Mounia, Halima, Fadoua, Soukaina, Nawal, Hasna, Rajae, Bouchra, Jamila, Mina,"
    "Zohra, Hafsa, Aya, Nisrine, Layla, Ikram, Manal, Widad, Safae, Majda, Najwa, Nezha, Yamna,"
    # Amazigh names
    "Tiziri, Dihya, Tinhinane, Tilelli, Titrit, Tafsut, Tudert, Tanirt, Itto, Ijja, Touda, Tanina,"
    "Thanina, Tamazight, Tislit, Lunja, Tafat, Taziri, Kenza, Tamount, Tiyya"
)
LAST_NAMES = _words(
    "Alaoui, El Amrani, Bennani, Tazi, Berrada, Benjelloun, El Idrissi, Chraibi, Filali, Sqalli, Lahlou,"
    "El Fassi, Benkirane, Kettani, Ouazzani, Bouzidi, El Mansouri, Zerouali, Naciri, Benali, Cherkaoui,"
    "Lamrani, Hajji, Bouazza, El Kabbaj, Ziani, Saidi, Belkadi, El Khatib, Tahiri, Laaroussi, Jabri,"
    "Sabri, Mouline, Guessous, Benslimane, El Ouafi, Rhazali, Bakkali, Lamarti, Skalli, Zaki, Moujahid,"
    "Benmoussa, Fadili, El Gharbi, Zemmouri, Gharbaoui, Mokhtari, Khalfi, Lakhdar, El Hachimi, Belhaj,"
    "El Ghazouani, Nejjar, Haddad, Kadiri, Slaoui, Bouhali, Sebti, Hamdaoui, Rahmouni, Chafik, Karimi,"
    "Bouzoubaa, El Harti, Benabdellah, Mernissi, Tounsi, Sefrioui, Lazrak, Hilali, Kabbaj, El Alami,"
    "Boukhari, Chami, Daoudi, Ennaji, Fikri, Ghazi, Jaafari, Kasmi, Mabrouk, Nouri, Rami, Sahli,"
    "Talbi, Wahbi, Yacoubi, Zahiri, El Hamdouchi, Sbai, Mansouri, Loukili, Ouahabi, Benchekroun,"
    # Amazigh family names
    "Ait Ali, Ait Lahcen, Ait Taleb, Ait Hammou, Ait Said, Ait Youssef, Ait Ouali, Ait Brahim, Oubaha,"
    "Outaleb, Ouali, Amellal, Azzouzi, Boutaleb, Id Ahmed, Ouhaddou, Amghar, Oubella, Aderdour, Ouchen,"
    "Ouakrim, Amzil, Abarkan, Ait Oufella, Id Brahim, Oumouss, Akhiat, Ouhammou, Amzough, Aznag"
)

# (prefix, digits, weight): Kénitra's « G » series first, then other regions' letters (people move).
CIN_PREFIXES = [
    ("G", 6, 26),
    ("GA", 6, 14),
    ("GB", 6, 10),
    ("GK", 6, 9),
    ("GM", 6, 6),
    ("GN", 6, 4),
    ("GJ", 6, 3),
    ("A", 6, 4),
    ("AB", 6, 3),
    ("AE", 6, 2),
    ("BE", 6, 3),
    ("BK", 6, 2),
    ("BH", 6, 1),
    ("C", 6, 2),
    ("CD", 6, 1),
    ("D", 6, 2),
    ("DA", 6, 1),
    ("X", 6, 2),
    ("XA", 5, 2),
    ("F", 6, 1),
    ("JB", 6, 1),
    ("L", 6, 1),
    ("E", 6, 1),
]

MOBILE_PREFIXES = (
    [f"6{d}" for d in "01234567"] * 4 + ["69"] * 2 + ["70", "71", "76", "77", "78"]
)  # every 06/07 block here is a valid mobile range for libphonenumber's Moroccan metadata

# Districts: name, weight, agency key, city, postal code, sanitation share, address style weights
# (numbered, block, lot, villa, residence).
DISTRICTS = [
    ("Ville Haute", 3, "centre", "Kénitra", "14000", 0.98, (1, 0, 0, 3, 3)),
    ("Médina", 3, "centre", "Kénitra", "14000", 0.97, (5, 0, 0, 0, 0)),
    ("Khabazat", 5, "centre", "Kénitra", "14000", 0.95, (6, 0, 1, 0, 0)),
    ("Ismailia", 3, "centre", "Kénitra", "14000", 0.95, (5, 0, 1, 0, 1)),
    ("La Cigogne", 2, "centre", "Kénitra", "14000", 0.98, (1, 0, 1, 4, 1)),
    ("Val Fleuri", 3, "centre", "Kénitra", "14000", 0.98, (2, 0, 1, 3, 2)),
    ("Les Mimosas", 3, "centre", "Kénitra", "14000", 0.98, (2, 0, 1, 3, 3)),
    ("Alliance", 3, "saknia", "Kénitra", "14000", 0.92, (4, 0, 2, 0, 1)),
    ("Saknia", 8, "saknia", "Kénitra", "14000", 0.90, (6, 1, 2, 0, 1)),
    ("Fouarat", 5, "saknia", "Kénitra", "14000", 0.80, (6, 0, 2, 0, 0)),
    ("Oulad Arafa", 3, "saknia", "Kénitra", "14000", 0.65, (5, 0, 2, 0, 0)),
    ("Lgharbia", 2, "saknia", "Kénitra", "14000", 0.75, (5, 0, 1, 0, 0)),
    ("Ouled Oujih", 12, "oujih", "Kénitra", "14000", 0.90, (3, 4, 1, 0, 1)),
    ("Nahda", 5, "oujih", "Kénitra", "14000", 0.90, (4, 1, 2, 0, 1)),
    ("Hay Essalam", 3, "oujih", "Kénitra", "14000", 0.88, (5, 1, 1, 0, 0)),
    ("Bir Rami Est", 6, "birrami", "Kénitra", "14000", 0.92, (6, 0, 2, 0, 1)),
    ("Bir Rami Ouest", 5, "birrami", "Kénitra", "14000", 0.92, (6, 0, 2, 0, 1)),
    ("Bir Rami Industriel", 1, "birrami", "Kénitra", "14000", 0.85, (3, 0, 3, 0, 0)),
    ("Haddada", 3, "birrami", "Kénitra", "14000", 0.60, (5, 0, 2, 0, 0)),
    ("Maamora", 8, "maamora", "Kénitra", "14000", 0.95, (4, 0, 2, 2, 2)),
    ("Hay Inbiaat", 2, "maamora", "Kénitra", "14000", 0.90, (5, 1, 1, 0, 0)),
    ("Mehdia", 3, "mehdia", "Mehdia", "", 0.55, (3, 0, 2, 2, 1)),
    ("Kasbah Mehdia", 1, "mehdia", "Mehdia", "", 0.45, (5, 0, 0, 0, 0)),
    ("Quartier Industriel", 1, "centre", "Kénitra", "14000", 0.90, (3, 0, 2, 0, 0)),
]
BUSINESS_DISTRICT_BONUS = {"Quartier Industriel": 12, "Bir Rami Industriel": 10, "Ville Haute": 6, "Maamora": 3}

STREET_NAMES = _words(
    "avenue Mohammed V, boulevard Mohammed Diouri, avenue Hassan II, boulevard Moulay Youssef,"
    "rue Ibn Sina, rue Al Moutanabbi, rue Ibn Khaldoun, rue Oqba Ibn Nafii, rue Tarik Ibn Ziad,"
    "rue Abou Bakr Seddik, rue Ibn Rochd, rue Al Farabi, avenue Allal Ben Abdellah, rue Zerktouni,"
    "avenue Moulay Abdelaziz, rue des Orangers, rue des Jacarandas, rue des Mimosas, rue Sebou,"
    "avenue Maamora, rue Al Kods, rue Imam Malik, rue Ibn Battouta, avenue Abdelkrim El Khattabi"
)
LOT_NAMES = _words(
    "Al Amal, Al Wahda, Al Massira, Assalam, Ennasr, Al Fath, Riad, Annour, Al Wifaq, Al Qods, Chorouk,"
    "Al Boustane, Al Yasmine, Zitoune, Al Mouna, Essaada"
)
RESIDENCE_NAMES = _words(
    "Al Wafae, Les Jardins de Maamora, Sebou Park, Al Andalous, Les Orangers, Riad Kénitra, Al Manar,"
    "Nour Sebou, Les Palmiers, Al Firdaous, Yasmina, Mehdia Plage"
)

COMPANY_ACTIVITIES = _words(
    "Boulangerie, Pâtisserie, Pressing, Café, Restaurant, Menuiserie, Quincaillerie, Transport,"
    "Imprimerie, Bâtiment, Froid Industriel, Négoce, Agro, Textile, Plasturgie, Logistique,"
    "Auto-école, École privée, Laboratoire, Clinique, Hôtel, Matériaux, Carrosserie, Agrumes,"
    "Conserverie, Câblage, Emballage, Élevage, Lavage Auto, Centre d'appels"
)
COMPANY_STEMS = _words(
    "Sebou, Gharb, Maamora, Al Amal, Al Baraka, Atlas, Mehdia, Ennour, Al Wahda, Assalam, Al Fath,"
    "Al Majd, Annasr, Ibn Sina, Al Massira, Fouarat, Al Andalous, Nour, Zitouna, Kénitra, Oasis,"
    "Al Firdaous, Chourouk, Al Yousr, Rif, Al Khair, Sidi Taibi, Atlantique, Al Qods, Sahel, Tafilalt,"
    "Al Bahja, Souss, Ennakhil, Al Hoceima, Dar Salam, Tadla, Moulouya, Oum Rabii, Al Mountazah"
)
COMPANY_FORMS = ["SARL", "SARL", "SARL AU", "SARL AU", "SA", "SNC"]
ADMINISTRATION_KINDS = _words(
    "École primaire, Collège, Lycée, Centre de santé, Maison des jeunes, Foyer féminin, Arrondissement"
)
PROFESSIONAL_TRADES = _words(
    "Pharmacie, Cabinet médical Dr, Cabinet dentaire Dr, Épicerie, Librairie, Salon de coiffure,"
    "Atelier de couture, Cabinet d'architecte, Étude de notaire Me, Cabinet d'avocat Me, Optique,"
    "Boucherie, Droguerie, Cyber"
)

# (brand code, brand name, weight)
WATER_BRANDS = [("IT", "Itron", 5), ("EL", "Elster", 3), ("SE", "Sensus", 2)]
ELECTRICITY_BRANDS = [("SG", "Sagemcom", 5), ("LG", "Landis+Gyr", 3), ("IT", "Itron", 2), ("EL", "Elster", 2)]
WATER_CALIBERS = [("15 mm", 92), ("20 mm", 8)]
ELECTRICITY_CALIBERS = [("5 A", 25), ("10 A", 45), ("15 A", 22), ("30 A", 8)]
DEPOSITS = {  # deposit (dépôt de garantie) by meter caliber; contracts before 2010 paid the old scale
    "15 mm": (Decimal("300.00"), Decimal("180.00")),
    "20 mm": (Decimal("600.00"), Decimal("360.00")),
    "5 A": (Decimal("250.00"), Decimal("150.00")),
    "10 A": (Decimal("500.00"), Decimal("300.00")),
    "15 A": (Decimal("750.00"), Decimal("450.00")),
    "30 A": (Decimal("1500.00"), Decimal("900.00")),
}
SANITATION_DEPOSIT = Decimal("0.00")

AGENCIES = {  # key -> Agency fields. Plausible demo agencies, not the Régie's official list.
    "centre": dict(
        name="Agence Centre-ville",
        address="Boulevard Mohammed Diouri, Ville Haute, Kénitra",
        hours="Lundi au vendredi 8h30 – 16h30, samedi 9h – 12h",
        phone="+212537372100",
        email="agence.centre@rak.ma",
        latitude=Decimal("34.261100"),
        longitude=Decimal("-6.580200"),
    ),
    "saknia": dict(
        name="Agence Saknia",
        address="Avenue Abdelkrim El Khattabi, Saknia, Kénitra",
        hours="Lundi au vendredi 8h30 – 16h30",
        phone="+212537374210",
        email="agence.saknia@rak.ma",
        latitude=Decimal("34.243600"),
        longitude=Decimal("-6.600800"),
    ),
    "oujih": dict(
        name="Agence Ouled Oujih",
        address="Boulevard Allal Ben Abdellah, Ouled Oujih, Kénitra",
        hours="Lundi au vendredi 8h30 – 16h30",
        phone="+212537376320",
        email="agence.ouledoujih@rak.ma",
        latitude=Decimal("34.250800"),
        longitude=Decimal("-6.553400"),
    ),
    "birrami": dict(
        name="Agence Bir Rami",
        address="Avenue Al Massira, Bir Rami Est, Kénitra",
        hours="Lundi au vendredi 8h30 – 16h30",
        phone="+212537378430",
        email="agence.birrami@rak.ma",
        latitude=Decimal("34.276500"),
        longitude=Decimal("-6.567800"),
    ),
    "maamora": dict(
        name="Agence Maamora",
        address="Rue Moulay Ismail, Maamora, Kénitra",
        hours="Lundi au vendredi 8h30 – 16h30",
        phone="+212537379540",
        email="agence.maamora@rak.ma",
        latitude=Decimal("34.236700"),
        longitude=Decimal("-6.574500"),
    ),
    "mehdia": dict(
        name="Agence Mehdia",
        address="Avenue Hassan II, Mehdia",
        hours="Lundi au vendredi 8h30 – 16h30 (été : samedi 9h – 12h)",
        phone="+212537388650",
        email="agence.mehdia@rak.ma",
        latitude=Decimal("34.255300"),
        longitude=Decimal("-6.648200"),
        city="Mehdia",
    ),
}

EMAIL_DOMAINS = [("example.com", 5), ("example.net", 3), ("example.org", 2)]  # RFC 2606: never delivered

# Column order of the generated rows (attnames; the first one is the primary key).
COLUMNS = {
    Customer: (
        "id",
        "code",
        "kind",
        "status",
        "cin",
        "ice",
        "civility",
        "first_name",
        "last_name",
        "company_name",
        "birth_date",
        "agency_id",
        "created_at",
    ),
    Contact: ("id", "customer_id", "kind", "value", "is_sms", "is_primary_email", "verified_at", "created_at"),
    Premises: ("id", "reference", "address", "district", "city", "postal_code", "round_code"),
    Meter: ("id", "number", "service", "caliber", "brand", "installed_date"),
    Dossier: (
        "id",
        "number",
        "customer_id",
        "service",
        "status",
        "tariff_category",
        "billing_mode",
        "deposit_amount",
        "start_date",
        "end_date",
        "premises_id",
        "meter_id",
    ),
}
LOAD_ORDER = (Customer, Contact, Premises, Meter, Dossier)

YEARS_OF_HISTORY = 25


# --- small helpers ---------------------------------------------------------------------------


def ice_check_digits(body: str) -> str:
    """The two check digits of an ICE: the 15-digit number is a multiple of 97 (stdnum.ma.ice)."""
    return f"{(97 - int(body) * 100 % 97) % 97:02d}"


def _ascii_slug(text: str, sep: str = "") -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return sep.join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def _weighted(items: list[tuple]) -> tuple[list, list[int]]:
    values = [item[:-1] if len(item) > 2 else item[0] for item in items]
    cum, total = [], 0
    for item in items:
        total += item[-1]
        cum.append(total)
    return values, cum


class _Choice:
    """Weighted choice over (value..., weight) tuples through precomputed cumulative weights."""

    def __init__(self, items: list[tuple]) -> None:
        self.values, self.cum = _weighted(items)
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random):
        return self.values[bisect_right(self.cum, rng.random() * self.total)]


_cin_choice = _Choice(CIN_PREFIXES)
_district_choice = _Choice([(d, d[1]) for d in DISTRICTS])
# One reading round (tournée) per district: T01, T02... in the order of DISTRICTS.
ROUND_CODES = {d[0]: f"T{i + 1:02d}" for i, d in enumerate(DISTRICTS)}
_business_district_choice = _Choice([(d, d[1] + BUSINESS_DISTRICT_BONUS.get(d[0], 0)) for d in DISTRICTS])
_water_brand = _Choice(WATER_BRANDS)
_elec_brand = _Choice(ELECTRICITY_BRANDS)
_water_caliber = _Choice(WATER_CALIBERS)
_elec_caliber = _Choice(ELECTRICITY_CALIBERS)
_email_domain = _Choice(EMAIL_DOMAINS)


# --- the generator ---------------------------------------------------------------------------


@dataclass
class DemoBatch:
    rows: dict[type[Any], list[tuple]] = field(default_factory=lambda: {model: [] for model in LOAD_ORDER})

    def count(self, model: type[Any]) -> int:
        return len(self.rows[model])


class DemoGenerator:
    """Deterministic rows for ``count`` customers. ``first_ids`` maps each model of LOAD_ORDER to
    the first primary key to use; ``agency_ids`` maps AGENCIES keys to Agency primary keys."""

    def __init__(
        self,
        *,
        seed: int,
        as_of: date,
        now: datetime,
        first_code: int = CUSTOMER_CODE_START,
        first_ids: dict[type[Any], int] | None = None,
        agency_ids: dict[str, int] | None = None,
    ) -> None:
        self.seed = seed
        self.as_of = as_of
        self.now = now
        self.first_code = first_code
        self.next_id: dict[type[Any], int] = {model: (first_ids or {}).get(model, 1) for model in LOAD_ORDER}
        self.agency_ids: dict[str, int | None] = {**(agency_ids or {key: None for key in AGENCIES})}
        self.cins: set[str] = set()
        self.ices: set[str] = set()
        self.phones: set[str] = set()
        self.emails: set[str] = set()
        self.company_names: set[str] = set()
        self.premises_seq = 0
        self.meter_seq = 0
        self.dossier_seq = 0

    # streams: one Random per customer and purpose, independent of the others
    def _rng(self, index: int, stream: int) -> random.Random:
        return random.Random((self.seed << 40) | (index << 2) | stream)  # noqa: S311 - demo data, not secrets

    def _id(self, model: type[Any]) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def batches(self, count: int, batch_size: int = DEFAULT_BATCH_SIZE) -> Iterator[DemoBatch]:
        batch = DemoBatch()
        for index in range(count):
            self.customer(index, batch)
            if (index + 1) % batch_size == 0:
                yield batch
                batch = DemoBatch()
        if batch.count(Customer):
            yield batch

    # identities ---------------------------------------------------------------------------
    def _cin(self, rng: random.Random) -> str:
        while True:
            prefix, digits = _cin_choice(rng)
            value = f"{prefix}{rng.randrange(10 ** (digits - 1), 10**digits)}"
            if value not in self.cins:
                self.cins.add(value)
                return value

    def _ice(self, rng: random.Random) -> str:
        while True:
            establishment = 0 if rng.random() < 0.85 else rng.randint(1, 9)
            body = f"00{rng.randint(1_000_000, 3_999_999):07d}{establishment:04d}"
            value = body + ice_check_digits(body)
            if value not in self.ices:
                self.ices.add(value)
                return value

    def _mobile(self, rng: random.Random) -> str:
        while True:
            value = f"+212{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10_000_000):07d}"
            if value not in self.phones:
                self.phones.add(value)
                return value

    def _email(self, rng: random.Random, local: str) -> str:
        domain = _email_domain(rng)
        value = f"{local}@{domain}"
        while value in self.emails:
            value = f"{local}{rng.randint(1, 999)}@{domain}"
        self.emails.add(value)
        return value

    def _person_email(self, rng: random.Random, first: str, last: str, birth: date | None) -> str:
        f, l_ = _ascii_slug(first), _ascii_slug(last)
        pattern = rng.randrange(4)
        if pattern == 0:
            local = f"{f}.{l_}"
        elif pattern == 1:
            local = f"{f}{l_}{(birth.year % 100) if birth else rng.randint(1, 99):02d}"
        elif pattern == 2:
            local = f"{f[0]}.{l_}"
        else:
            local = f"{l_}.{f}"
        return self._email(rng, local)

    def _company_name(self, rng: random.Random, district: str) -> str:
        name = f"{rng.choice(COMPANY_ACTIVITIES)} {rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_FORMS)}"
        if name in self.company_names:
            activity, _, form = name.rpartition(" ")
            name = f"{activity} {district} {form}"
        self.company_names.add(name)
        return name

    # addresses ----------------------------------------------------------------------------
    @staticmethod
    def _address(rng: random.Random, district_row: tuple) -> str:
        styles = district_row[6]
        style = rng.choices(range(5), weights=styles)[0]
        if style == 0:
            return f"N° {rng.randint(1, 250)} rue {rng.randint(1, 120)}"
        if style == 1:
            return f"Bloc {rng.choice('ABCDEFGHIJKLM')} N° {rng.randint(1, 180)}"
        if style == 2:
            return f"Lot. {rng.choice(LOT_NAMES)} N° {rng.randint(1, 400)}"
        if style == 3:
            return f"Villa {rng.randint(1, 90)}, {rng.choice(STREET_NAMES)}"
        return f"Résidence {rng.choice(RESIDENCE_NAMES)}, imm. {rng.randint(1, 24)}, appt {rng.randint(1, 20)}"

    def _start_date(self, rng: random.Random) -> date:
        # more recent contracts than old ones: the city grows
        days = YEARS_OF_HISTORY * 365
        return self.as_of - timedelta(days=int(days * (1 - math.sqrt(rng.random()))) + 1)

    # one customer -------------------------------------------------------------------------
    def customer(self, index: int, batch: DemoBatch) -> int:
        """Append customer ``index`` and everything it owns to ``batch``; return its id."""
        rng = self._rng(index, 0)
        demo = index == 0  # the demo portal login: a particulier with SMS phone and e-mail
        draw = rng.random()
        kind = (
            Customer.Kind.PARTICULIER
            if demo or draw >= 0.08
            else Customer.Kind.ENTREPRISE
            if draw < 0.05
            else Customer.Kind.PROFESSIONNEL
        )
        prospect = not demo and kind == Customer.Kind.PARTICULIER and rng.random() < 0.01
        district_row = (_business_district_choice if kind == Customer.Kind.ENTREPRISE else _district_choice)(rng)

        civility = first = last = company = cin = ice = ""
        birth = None
        administration = False
        if kind != Customer.Kind.ENTREPRISE:
            male = rng.random() < 0.64
            civility = Customer.Civility.M if male else Customer.Civility.MME
            first = rng.choice(MALE_FIRST_NAMES if male else FEMALE_FIRST_NAMES)
            last = rng.choice(LAST_NAMES)
            cin = self._cin(rng)
            age_days = rng.randint(22 * 365, 85 * 365)
            birth = self.as_of - timedelta(days=age_days)
        if kind != Customer.Kind.PARTICULIER:
            ice = self._ice(rng)
        if kind == Customer.Kind.ENTREPRISE:
            administration = rng.random() < 0.06
            if administration:
                company = f"{rng.choice(ADMINISTRATION_KINDS)} {rng.choice(COMPANY_STEMS)}"
                if company in self.company_names:
                    company = f"{company} ({district_row[0]})"
                self.company_names.add(company)
            else:
                company = self._company_name(rng, district_row[0])
        elif kind == Customer.Kind.PROFESSIONNEL:
            trade = rng.choice(PROFESSIONAL_TRADES)
            company = f"{trade} {last}" if trade.endswith(("Dr", "Me")) else f"{trade} {rng.choice(COMPANY_STEMS)}"

        customer_id = self._id(Customer)
        code = str(self.first_code + index)
        batch.rows[Customer].append(
            (
                customer_id,
                code,
                kind,
                Customer.Status.PROSPECT if prospect else Customer.Status.CLIENT,
                cin,
                ice,
                civility,
                first,
                last,
                company,
                birth,
                self.agency_ids[district_row[2]],
                self.now,
            )
        )

        # contacts
        has_phone = demo or prospect or rng.random() >= 0.04
        if has_phone:
            batch.rows[Contact].append(
                (
                    self._id(Contact),
                    customer_id,
                    Contact.Kind.PHONE,
                    self._mobile(rng),
                    True,
                    False,
                    self.now if demo else None,
                    self.now,
                )
            )
            if rng.random() < 0.08 and not demo:
                batch.rows[Contact].append(
                    (
                        self._id(Contact),
                        customer_id,
                        Contact.Kind.PHONE,
                        self._mobile(rng),
                        False,
                        False,
                        None,
                        self.now,
                    )
                )
        email_share = {Customer.Kind.PARTICULIER: 0.30, Customer.Kind.PROFESSIONNEL: 0.60}.get(kind, 0.85)
        if demo or rng.random() < email_share:
            if kind == Customer.Kind.ENTREPRISE:
                mailbox = rng.choice(["contact", "direction", "comptabilite"])
                trade_name = company.rsplit(" ", 2)[0] if company.endswith(" SARL AU") else company.rsplit(" ", 1)[0]
                email = self._email(rng, f"{mailbox}.{_ascii_slug(trade_name)[:24]}")
            else:
                email = self._person_email(rng, first, last, birth)
            batch.rows[Contact].append(
                (
                    self._id(Contact),
                    customer_id,
                    Contact.Kind.EMAIL,
                    email,
                    False,
                    True,
                    self.now if demo else None,
                    self.now,
                )
            )

        if not prospect:
            self._dossiers(
                index, customer_id, kind, district_row, birth, batch, demo=demo, administration=administration
            )
        return customer_id

    def _dossiers(self, index, customer_id, kind, district_row, birth, batch, *, demo, administration) -> None:
        rng = self._rng(index, 1)
        draw = rng.random()
        if demo:
            premises_count = 1
        elif kind == Customer.Kind.ENTREPRISE:
            premises_count = 1 if draw < 0.78 else 2 if draw < 0.95 else 3
        else:
            premises_count = 1 if draw < 0.95 else 2 if draw < 0.99 else 3
        billing_draw = rng.random()
        billing_mode = (
            Dossier.BillingMode.NORMAL
            if demo or billing_draw < 0.85
            else Dossier.BillingMode.DIRECT_DEBIT
            if billing_draw < 0.97
            else Dossier.BillingMode.ADVANCE
        )
        earliest = (birth + timedelta(days=18 * 365 + 5)) if birth else None
        for number in range(premises_count):
            row = (
                district_row
                if number == 0
                else (_business_district_choice if kind == Customer.Kind.ENTREPRISE else _district_choice)(rng)
            )
            self.premises_seq += 1
            premises_id = self._id(Premises)
            batch.rows[Premises].append(
                (
                    premises_id,
                    f"LK{self.premises_seq:08d}",
                    self._address(rng, row),
                    row[0],
                    row[3],
                    row[4],
                    ROUND_CODES[row[0]],
                )
            )
            start = self._start_date(rng)
            if earliest and start < earliest:
                start = earliest + timedelta(days=rng.randint(0, 400))
                start = min(start, self.as_of - timedelta(days=1))
            # status of the premises: a customer with several premises often left the oldest
            status_draw = rng.random()
            if demo:
                status = Dossier.Status.ACTIVE
            elif premises_count > 1 and number == 0 and status_draw < 0.4:
                status = Dossier.Status.TERMINATED
            else:
                status = (
                    Dossier.Status.ACTIVE
                    if status_draw < 0.92
                    else Dossier.Status.SUSPENDED
                    if status_draw < 0.96
                    else Dossier.Status.TERMINATED
                )
            end = None
            end_offset = rng.random()
            if status == Dossier.Status.TERMINATED:
                span = (self.as_of - start).days
                if span < 200:
                    status = Dossier.Status.ACTIVE
                else:
                    end = start + timedelta(days=180 + int((span - 180) * end_offset))
            services_draw = rng.random()
            services = (
                (Service.EAU, Service.ELECTRICITE)
                if demo or services_draw < 0.82
                else (Service.ELECTRICITE,)
                if services_draw < 0.92
                else (Service.EAU,)
            )
            if Service.EAU in services and (demo or rng.random() < row[5]):
                services = (*services, Service.ASSAINISSEMENT)
            category = Dossier.TariffCategory.ADMINISTRATION if administration else self._category(rng, kind)
            water_meter_status = status
            for service in services:
                meter_id = None
                if service == Service.ASSAINISSEMENT:
                    caliber, deposit, dossier_status = None, SANITATION_DEPOSIT, water_meter_status
                else:
                    caliber = self._caliber(rng, service, kind)
                    recent, old = DEPOSITS[caliber]
                    deposit = recent if start.year >= 2010 else old
                    meter_id = self._meter(rng, service, caliber, start, end or self.as_of, batch)
                    dossier_status = status
                    if status == Dossier.Status.SUSPENDED and rng.random() < 0.4:
                        dossier_status = Dossier.Status.ACTIVE  # only the other service is cut
                    if service == Service.EAU:
                        water_meter_status = dossier_status
                self.dossier_seq += 1
                prefix = {Service.EAU: "EA", Service.ELECTRICITE: "EL", Service.ASSAINISSEMENT: "AS"}[service]
                batch.rows[Dossier].append(
                    (
                        self._id(Dossier),
                        f"{prefix}{self.dossier_seq:08d}",
                        customer_id,
                        service,
                        dossier_status,
                        category,
                        billing_mode,
                        deposit,
                        start,
                        end,
                        premises_id,
                        meter_id,
                    )
                )

    @staticmethod
    def _category(rng: random.Random, kind: str) -> str:
        draw = rng.random()
        if kind == Customer.Kind.PARTICULIER:
            return Dossier.TariffCategory.DOMESTIQUE if draw < 0.98 else Dossier.TariffCategory.PROFESSIONNEL
        if kind == Customer.Kind.PROFESSIONNEL:
            return Dossier.TariffCategory.PROFESSIONNEL if draw < 0.9 else Dossier.TariffCategory.DOMESTIQUE
        return Dossier.TariffCategory.PROFESSIONNEL if draw < 0.72 else Dossier.TariffCategory.INDUSTRIEL

    @staticmethod
    def _caliber(rng: random.Random, service: str, kind: str) -> str:
        if service == Service.EAU:
            caliber = _water_caliber(rng)
            if kind == Customer.Kind.ENTREPRISE and rng.random() < 0.5:
                caliber = "20 mm"
            return caliber
        caliber = _elec_caliber(rng)
        if kind == Customer.Kind.ENTREPRISE and rng.random() < 0.5:
            caliber = "30 A"
        return caliber

    def _meter(self, rng: random.Random, service: str, caliber: str, start: date, until: date, batch: DemoBatch) -> int:
        code, brand = (_water_brand if service == Service.EAU else _elec_brand)(rng)
        installed = start
        if rng.random() < 0.3:  # replaced since the contract started
            span = (until - start).days
            if span > 30:
                installed = start + timedelta(days=rng.randint(1, span - 1))
        self.meter_seq += 1
        meter_id = self._id(Meter)
        batch.rows[Meter].append(
            (
                meter_id,
                f"{code}{installed.year % 100:02d}{self.meter_seq:08d}",
                service,
                caliber,
                brand,
                installed,
            )
        )
        return meter_id


# --- loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLoadResult:
    counts: dict[str, int]
    first_code: str
    last_code: str
    method: str

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DemoLogin:
    label: str
    username: str
    password: str
    url: str
    valid: bool = True


def _refuse_in_production() -> None:
    if getattr(settings, "RAK_MODE", "development") == "production":
        raise DemoDataRefused(
            "Refusé : le serveur est en mode production. Les données de démonstration (numéros de "
            "téléphone réalistes, mots de passe publiés) ne doivent jamais être chargées en production."
        )


def agencies_ensure() -> dict[str, int]:
    """Create the demo agencies that do not exist yet (by name); return key -> id."""
    ids = {}
    for key, fields in AGENCIES.items():
        values = dict(fields)
        agency, _ = Agency.objects.get_or_create(name=values.pop("name"), defaults=values)
        ids[key] = agency.pk
    return ids


def _write_copy(model: type[Any], rows: list[tuple]) -> None:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in COLUMNS[model])
    sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _write_bulk(model: type[Any], rows: list[tuple]) -> None:
    columns = COLUMNS[model]
    objs = [model(**dict(zip(columns, row, strict=True))) for row in rows]
    model.objects.bulk_create(objs, batch_size=len(objs) or 1)


@transaction.atomic
def demo_data_load(
    *,
    count: int = DEFAULT_CUSTOMERS,
    seed: int = DEFAULT_SEED,
    now: datetime,
    batch_size: int = DEFAULT_BATCH_SIZE,
    use_copy: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> DemoLoadResult:
    """Generate and insert ``count`` customers with their contacts, premises, meters and dossiers,
    then move the code-client sequence past them. Refuses a database that already has customers."""
    _refuse_in_production()
    if count < 1:
        raise DemoDataRefused("Le nombre de clients doit être positif.")
    if Customer.objects.exists():
        raise DemoDataRefused(
            "La base contient déjà des clients : les données de démonstration ne sont chargées que dans une "
            "base vide (utilisez --if-empty pour ne rien faire dans ce cas)."
        )
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in LOAD_ORDER)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")  # ids below are computed from max(id)
    write = _write_copy if use_copy else _write_bulk

    agency_ids = agencies_ensure()
    first_ids = {m: (m.objects.aggregate(top=Max("id"))["top"] or 0) + 1 for m in LOAD_ORDER}
    generator = DemoGenerator(
        seed=seed,
        as_of=timezone.localdate(now),
        now=now,
        first_ids=first_ids,
        agency_ids=agency_ids,
    )
    counts = {str(m._meta.model_name): 0 for m in LOAD_ORDER}
    done = 0
    for batch in generator.batches(count, batch_size):
        for model in LOAD_ORDER:
            rows = batch.rows[model]
            if rows:
                write(model, rows)
                counts[str(model._meta.model_name)] += len(rows)
        done += batch.count(Customer)
        if progress:
            progress(done, count)

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(LOAD_ORDER)):
            cursor.execute(sql)
    last_code = CUSTOMER_CODE_START + count - 1
    sequence_ensure_at_least(name=CUSTOMER_CODE_SEQUENCE, value=last_code + 1)
    return DemoLoadResult(
        counts=counts,
        first_code=str(CUSTOMER_CODE_START),
        last_code=str(last_code),
        method="COPY" if use_copy else "bulk_create",
    )


def _demo_logins(customer_code: str, site_url: str) -> list[tuple[str, str, str, str]]:
    return [
        ("Connexion client", customer_code, DEMO_CUSTOMER_PASSWORD, f"{site_url}/"),
        ("Back office", DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD, f"{site_url}/backoffice/"),
        ("Direction (rapports)", DEMO_DIRECTION_USERNAME, DEMO_DIRECTION_PASSWORD, f"{site_url}/backoffice/rapports/"),
        ("Super-administrateur", DEMO_ADMIN_USERNAME, DEMO_ADMIN_PASSWORD, f"{site_url}/backoffice/"),
    ]


@transaction.atomic
def demo_logins_ensure(*, now: datetime) -> list[DemoLogin]:
    """Create (or reset to the documented passwords) the demo customer account — on the first
    generated customer — the demo agent (superviseur), the direction's demo login and the superuser."""
    _refuse_in_production()
    User = get_user_model()
    code = str(CUSTOMER_CODE_START)
    customer = Customer.objects.filter(code=code).first()
    if customer is None:
        raise DemoDataRefused(f"Le client de démonstration {code} n'existe pas : chargez d'abord les données.")
    email_contact = customer.contacts.filter(kind=Contact.Kind.EMAIL, is_primary_email=True).first()

    user = User.objects.filter(username=code).first() or User(username=code)
    user.role = User.Role.CUSTOMER
    user.email = email_contact.value if email_contact else ""
    user.first_name = customer.first_name[:150]
    user.last_name = (customer.last_name or customer.company_name)[:150]
    user.is_staff = user.is_superuser = False
    user.is_active = True
    user.must_change_password = False
    user.set_password(DEMO_CUSTOMER_PASSWORD)
    user.save()
    PortalAccount.objects.filter(user=user).exclude(customer=customer).delete()
    PortalAccount.objects.get_or_create(
        customer=customer,
        defaults={
            "user": user,
            "origin": PortalAccount.Origin.STAFF,
            "terms_accepted_at": now,
            "data_processing_accepted_at": now,
        },
    )

    for username, password, superuser, group_name in (
        (DEMO_STAFF_USERNAME, DEMO_STAFF_PASSWORD, False, DEMO_STAFF_GROUP),
        (DEMO_DIRECTION_USERNAME, DEMO_DIRECTION_PASSWORD, False, DEMO_DIRECTION_GROUP),
        (DEMO_ADMIN_USERNAME, DEMO_ADMIN_PASSWORD, True, ""),
    ):
        staff = User.objects.filter(username=username).first() or User(username=username)
        staff.role = User.Role.STAFF
        staff.is_staff = True
        staff.is_superuser = superuser
        staff.is_active = True
        staff.must_change_password = False
        if not staff.email:
            staff.email = f"{username}@rak.example"
        staff.set_password(password)
        staff.save()
        if group_name:
            group = Group.objects.filter(name=group_name).first()
            if group is not None:
                staff.groups.add(group)
    return [DemoLogin(*login) for login in _demo_logins(code, settings.SITE_URL)]


def demo_logins_existing() -> list[DemoLogin]:
    """The demo logins that exist in this database, each flagged when its password was changed."""
    User = get_user_model()
    logins = []
    for label, username, password, url in _demo_logins(str(CUSTOMER_CODE_START), settings.SITE_URL):
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        if user.role == User.Role.CUSTOMER and not PortalAccount.objects.filter(user=user).exists():
            continue
        logins.append(DemoLogin(label, username, password, url, valid=user.check_password(password)))
    return logins
