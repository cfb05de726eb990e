"""factory_boy factories shared by the test suite."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from rak_customer.models import Agency, Contact, Customer, Dossier, Meter, PortalAccount, Premises, Service

User = get_user_model()

TEST_PASSWORD = "Kenitra-2026!"  # noqa: S105 - test fixture


def make_ice(n: int) -> str:
    """A valid ICE: 13 digits + 2 check digits making the whole number divisible by 97
    (the rule stdnum.ma.ice checks)."""
    body = f"{n:013d}"
    return f"{body}{(-int(body) * 100) % 97:02d}"


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("name",)

    name = "Agence Centre"
    address = "Avenue Mohammed V, Kénitra"
    hours = "Lundi-vendredi 8h30-16h30"
    phone = "+212537370000"


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"{200000000 + n}")
    kind = Customer.Kind.PARTICULIER
    cin = factory.Sequence(lambda n: f"G{100000 + n}")
    civility = Customer.Civility.M
    first_name = "Youssef"
    last_name = factory.Sequence(lambda n: f"Alaoui{n}")
    birth_date = datetime.date(1985, 4, 12)


class CompanyFactory(CustomerFactory):
    kind = Customer.Kind.ENTREPRISE
    cin = ""
    ice = factory.Sequence(lambda n: make_ice(1000 + n))
    civility = ""
    first_name = ""
    last_name = ""
    company_name = factory.Sequence(lambda n: f"Société Sebou {n} SARL")


class PhoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    kind = Contact.Kind.PHONE
    value = factory.Sequence(lambda n: f"+2126{10000000 + n:08d}")
    is_sms = True


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    kind = Contact.Kind.EMAIL
    value = factory.Sequence(lambda n: f"client{n}@example.ma")
    is_primary_email = True


class PremisesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Premises

    reference = factory.Sequence(lambda n: f"L{n:08d}")
    address = factory.Sequence(lambda n: f"{n % 200 + 1} rue Ibn Sina")
    district = "Maamora"


class MeterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meter

    number = factory.Sequence(lambda n: f"M{n:09d}")
    service = Service.EAU
    caliber = factory.LazyAttribute(lambda o: "10 A" if o.service == Service.ELECTRICITE else "15 mm")
    installed_date = datetime.date(2015, 1, 1)


class DossierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dossier

    number = factory.Sequence(lambda n: f"D{n:09d}")
    customer = factory.SubFactory(CustomerFactory)
    service = Service.EAU
    deposit_amount = Decimal("250.00")
    start_date = datetime.date(2015, 1, 1)
    premises = factory.SubFactory(PremisesFactory)
    meter = factory.SubFactory(MeterFactory)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"agent{n}")
    role = User.Role.STAFF
    is_staff = True

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):  # noqa: N805 - factory_boy hook
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save(update_fields=["password"])


def staff_in(*groups: str, client=None, **kwargs) -> User:
    """A staff member of the seeded back-office ``groups`` (rak_customer.groups), logged in on the
    test ``client`` when one is given."""
    from django.contrib.auth.models import Group

    user = StaffFactory(**kwargs)
    user.groups.set(Group.objects.filter(name__in=groups))
    if client is not None:
        client.force_login(user)
    return user


def customer_with_account(
    *,
    phone: str = "+212612345678",
    email: str | None = None,
    must_change: bool = False,
    phone_verified: bool = False,
    **kwargs,
):
    """A customer with an SMS phone (a login identifier only when ``phone_verified``, as after an
    OTP), optional e-mail and a portal account (password TEST_PASSWORD)."""
    customer = CustomerFactory(**kwargs)
    PhoneFactory(customer=customer, value=phone, verified_at=timezone.now() if phone_verified else None)
    if email:
        EmailFactory(customer=customer, value=email)
    user = User(username=customer.code, role=User.Role.CUSTOMER, email=email or "", must_change_password=must_change)
    user.set_password(TEST_PASSWORD)
    user.save()
    PortalAccount.objects.create(user=user, customer=customer, origin=PortalAccount.Origin.STAFF)
    return customer, user
