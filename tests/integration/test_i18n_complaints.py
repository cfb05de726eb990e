"""Issue 12 on complaints and outage notices: « Envoyer une réclamation », « Mes réclamations » (list
and detail), « Signaler une fuite ou une coupure » and « Coupures et travaux en cours » in Arabic
(right to left) and English, French unchanged; the complaint categories seeded from the guides
shown translated (a name staff changed shows as typed); the messages in the complainant's language
— the customer's (``Customer.language``) whoever triggers them, or the language of the page a
visitor filed on — Arabic SMS within two SMS; staff notices still French; outage SMS composed once
per language and written in one bulk insert.

The Arabic and English assertions read the compiled catalogues: run ``manage.py i18n update`` first
(the lead's CI does)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from rak_base import clock
from rak_base.message_templates import _format, message_templates_registered, template_problems
from rak_base.models import Message
from rak_base.sms_length import sms_length
from rak_customer.models import ContactMessage, Customer
from rak_requests import outages
from rak_requests.complaint_models import Complaint, ComplaintCategory
from rak_requests.complaints import notify, services
from rak_requests.complaints.canned import canned_reply_text
from rak_requests.complaints.contact import contact_message_reply
from tests.factories import StaffFactory, customer_with_account
from tests.integration.test_complaint_portal import INCIDENT, NEW, public_post, text
from tests.integration.test_outage_notices import _customer, _data

pytestmark = pytest.mark.django_db

AR, EN = "ar", "en"


@pytest.fixture(autouse=True)
def _site_language_after():
    """A request of the test client leaves its language active in this thread: back to the site's
    default after each test, so that the next test module reads French."""
    yield
    translation.deactivate()


def _client(language: str | None = None, user=None) -> Client:
    client = Client()
    if language:
        client.cookies["rak_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def _filing(**kwargs) -> services.ComplaintFiling:
    values = {
        "category": ComplaintCategory.objects.get(code="facturation"),
        "name": "Amina Alaoui",
        "phone": "0612345678",
        "message": "Ma facture de février est trop élevée.",
        "email": "amina@example.ma",
    }
    values.update(kwargs)
    return services.ComplaintFiling(**values)


def _sms(phone: str = "+212612345678") -> list[Message]:
    return list(Message.objects.filter(channel="SMS", recipient=phone).order_by("pk"))


# --- pages ------------------------------------------------------------------------------------------


def test_the_public_complaint_form_in_arabic_right_to_left_with_the_categories_translated(client):
    page = text(_client(AR).get(NEW))
    assert 'dir="rtl"' in page and 'lang="ar"' in page
    for arabic in (
        "إرسال شكاية",
        "الخانات التي تحمل * إلزامية",
        "الاسم الكامل",
        "رقم الزبون",
        "إرسال طلبك",
        "أي فئة تختار؟",
        # the seed's categories and their help, translated
        "الفوترة",
        "قراءة العداد / العداد",
        "انقطاع الماء أو الكهرباء",
        "المؤشر المقروء، عداد متوقف أو معطل أو يتعذر الوصول إليه",
        "سيمكن البريد الإلكتروني ورقم الهاتف المدخلان RAK من التواصل معك لتتبع شكايتك",
    ):
        assert arabic in page, arabic
    for french in ("Envoyer votre demande", "Facturation", "Les champs avec * sont obligatoires", "Quelle catégorie"):
        assert french not in page, french


def test_the_public_complaint_form_in_english_and_french_unchanged(client):
    page = text(_client(EN).get(NEW))
    assert 'lang="en"' in page and 'dir="rtl"' not in page
    for english in ("Send a complaint", "Send your request", "Full name", "Billing", "Water or power outage"):
        assert english in page, english
    assert "Facturation" not in page and "Envoyer votre demande" not in page
    french = text(_client().get(NEW))
    assert 'dir="rtl"' not in french
    for words in ("Envoyer votre demande", "Facturation", "Coupure d'eau ou d'électricité", "Nom et prénom *"):
        assert words in french, words


def test_a_category_name_staff_changed_shows_as_typed():
    ComplaintCategory.objects.filter(code="facturation").update(name="Factures et paiements")
    page = text(_client(AR).get(NEW))
    assert "Factures et paiements" in page and "الفوترة" not in page
    assert "قراءة العداد / العداد" in page  # the others still translated


def test_the_incident_form_in_arabic_and_english(client):
    page = text(_client(AR).get(INCIDENT))
    assert 'dir="rtl"' in page
    for arabic in ("الإبلاغ عن تسرب أو انقطاع", "ما المشكل؟", "تسرب", "استعمال موقعي", "عنوان المشكل", "أين؟"):
        assert arabic in page, arabic
    # the script's sentences come from the page, whole, in its language
    # coordinates kept left to right inside the Arabic sentence (an isolate: « -6.58 » stays « -6.58 »)
    assert 'data-found="تم تسجيل الموقع: \u2066{lat}, {lon}\u2069."' in page
    assert "Signaler une fuite ou une coupure" not in page and "Utiliser ma position" not in page
    page = text(_client(EN).get(INCIDENT))
    for english in ("Report a leak or an outage", "What is the problem?", "Leak", "Use my location"):
        assert english in page, english
    assert 'data-found-accuracy="Location saved: {lat}, {lon} (accuracy {accuracy} m)."' in page


def test_refusals_are_in_the_page_language_on_their_field():
    response = _client(AR).post(INCIDENT, {"category": "", "message": ""})
    assert response.status_code == 400
    assert "يرجى اختيار نوع المشكل (تسرب أو انقطاع)." in text(response)
    # a refusal of the service (not of the form) names its field whatever the language
    response = public_post(_client(AR), phone="0612345678", category="999999")
    assert response.status_code == 400 and "يرجى اختيار فئة من القائمة." in text(response)


@pytest.fixture
def arabic_customer():
    customer, user = customer_with_account(phone="+212612345678", first_name="Karim", last_name="Idrissi")
    Customer.objects.filter(pk=customer.pk).update(language=AR)
    customer.refresh_from_db()
    return customer, user


def test_my_complaints_and_the_detail_in_arabic_and_english(arabic_customer, now):
    customer, user = arabic_customer
    staff = StaffFactory()
    complaint = services.complaint_file(
        filing=_filing(subject="Facture de mars"), customer=customer, user=user, now=now
    )
    services.complaint_reply(complaint_id=complaint.pk, staff_user=staff, body="Nous vérifions.", now=now)
    client = _client(AR, user)
    listing = text(client.get(reverse("portal:complaints")))
    assert 'dir="rtl"' in listing
    # filed on a fixed past day: its deadline is passed, said in Arabic
    for arabic in ("شكاياتي", "الفئة", "الموضوع", "الفوترة", "تم تجاوز الأجل المحدد", "إرسال شكاية"):
        assert arabic in listing, arabic
    assert complaint.number in listing and "Facture de mars" in listing  # what the customer typed, as typed
    assert "Mes réclamations" not in listing and "Facturation" not in listing
    detail = text(client.get(reverse("portal:complaint_detail", args=[complaint.number])))
    assert f'الشكاية رقم <span data-testid="complaint-number">{complaint.number}</span>' in detail
    for arabic in ("المراسلات", "أنت", "الرد", "إضافة معلومة", "→"):
        assert arabic in detail, arabic
    english = text(_client(EN, user).get(reverse("portal:complaint_detail", args=[complaint.number])))
    assert f'Complaint no. <span data-testid="complaint-number">{complaint.number}</span>' in english
    assert "Billing" in english and "Add information" in english and "←" in english
    french = text(_client("fr", user).get(reverse("portal:complaint_detail", args=[complaint.number])))
    assert f'Réclamation n° <span data-testid="complaint-number">{complaint.number}</span>' in french
    assert "Facturation" in french and "Ajouter une information" in french


def test_the_outage_pages_in_arabic_and_english():
    now = clock.now()
    staff = StaffFactory()
    _customer("Saknia")
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    page = text(_client(AR).get(reverse("portal:outages")))
    assert 'dir="rtl"' in page
    for arabic in ("الانقطاعات والأشغال الجارية", "مرتقبة", "انقطاع الماء المبرمج", "جميع الأحياء", "تصفية"):
        assert arabic in page, arabic
    assert "Coupures et travaux en cours" not in page and "coupure d'eau programmée" not in page.lower()
    detail = text(_client(AR).get(reverse("portal:outage_detail", args=[notice.number])))
    assert "رقم الإشعار" in detail and "الانتهاء المتوقع" in detail and "Saknia" in detail
    english = text(_client(EN).get(reverse("portal:outages")))
    assert "Current outages and works" in english and "Planned water outage" in english
    french = text(_client().get(reverse("portal:outages")))
    assert "Coupures et travaux en cours" in french and "Coupure d'eau programmée" in french


# --- messages --------------------------------------------------------------------------------------


def test_an_arabic_customers_complaint_messages_are_arabic_within_two_sms(arabic_customer, now):
    customer, user = arabic_customer
    staff = StaffFactory()
    with translation.override("fr"):  # whoever triggers it (a French page, the back office)
        complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
        services.complaint_reply(
            complaint_id=complaint.pk,
            staff_user=staff,
            body="Merci d'envoyer une photo du compteur.",
            asks_information=True,
            now=now,
        )
        services.complaint_close(complaint_id=complaint.pk, staff_user=staff, result="Index corrigé.", now=now)
    filed, asked, closed = _sms()
    assert filed.body == f"RAK: سجلت شكايتك رقم {complaint.number}. سنتصل بك. التتبع: «شكاياتي»"
    assert asked.body.startswith(f"RAK {complaint.number}: Merci d'envoyer") and "«شكاياتي»" in asked.body
    assert closed.body == f"RAK: تمت معالجة شكايتك {complaint.number}. النتيجة: Index corrigé."
    for sms in (filed, asked, closed):
        length = sms_length(sms.body)
        assert length.encoding == "UCS-2" and length.segments <= 2, sms.body
    assert sms_length(filed.body).segments == 1
    email = Message.objects.filter(channel="EMAIL").order_by("pk").first()
    assert email is None or email.subject == f"تم تسجيل الشكاية {complaint.number}"
    bell = Message.objects.filter(channel="BELL", user=user).order_by("pk").first()
    assert bell.subject == f"تم تسجيل الشكاية {complaint.number}"


def test_a_long_reply_to_an_arabic_customer_is_cut_to_fit(arabic_customer, now):
    customer, user = arabic_customer
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    services.complaint_reply(complaint_id=complaint.pk, staff_user=StaffFactory(), body="Vérification. " * 60, now=now)
    reply = _sms()[-1]
    assert reply.body.startswith(f"RAK: شكاية {complaint.number}: ") and reply.body.endswith("...")
    assert sms_length(reply.body).segments <= notify.SMS_MAX_SEGMENTS


def test_french_customers_messages_are_unchanged(now):
    complaint = services.complaint_file(filing=_filing(), now=now, ip="10.0.0.1")
    assert _sms()[0].body == (
        f"RAK : votre réclamation {complaint.number} a bien été prise en charge. Nous vous contacterons pour "
        'y donner suite. Suivi : rubrique "Mes réclamations".'
    )


def test_a_visitor_who_filed_on_the_arabic_page_hears_in_arabic_later_too(now):
    response = public_post(_client(AR))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.customer is None
    assert _sms()[0].body.startswith("RAK: سجلت شكايتك رقم")
    assert complaint.subject == "Facture de février"  # typed: kept as typed
    # the reply comes later from the back office (French): the visitor still reads Arabic
    with translation.override("fr"):
        services.complaint_close(
            complaint_id=complaint.pk, staff_user=StaffFactory(), result="Facture corrigée.", now=now
        )
    assert _sms()[-1].body == f"RAK: تمت معالجة شكايتك {complaint.number}. النتيجة: Facture corrigée."
    english = public_post(_client(EN), ip="10.1.0.9", phone="0677000111")
    assert english.status_code == 302
    assert _sms("+212677000111")[0].body.startswith("RAK: your complaint REC")


def test_what_staff_read_stays_french_when_an_arabic_customer_writes(arabic_customer, now):
    customer, user = arabic_customer
    agent = StaffFactory()
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    services.complaint_take(complaint_id=complaint.pk, staff_user=agent, now=now)
    with translation.override(AR):  # the customer's Arabic page (a file sent without text)
        notify.complaint_customer_message_notify(complaint, text="", users=[agent])
    bell = Message.objects.filter(channel="BELL", user=agent).latest("pk")
    assert bell.subject == f"Réclamation {complaint.number} : nouveau message du client"
    assert bell.body == "Le client a joint un fichier."


def test_a_contact_message_written_in_arabic_is_answered_in_arabic(now):
    message = ContactMessage.objects.create(
        name="سعاد", email="souad@example.ma", phone="+212612345678", subject="مواقيت الوكالة", body="متى تفتح الوكالة؟"
    )
    contact_message_reply(message_id=message.pk, staff_user=StaffFactory(), body="من 8 إلى 16.", now=now)
    email = Message.objects.get(channel="EMAIL")
    assert email.subject == "رد على رسالتك: مواقيت الوكالة" and email.body.startswith("مرحبا سعاد،")
    assert _sms()[0].body == "RAK: من 8 إلى 16."


def test_every_default_in_arabic_and_english_fits_in_two_sms_with_the_examples():
    codes = [c for c in message_templates_registered() if c.startswith(("complaint.", "outage.", "contact."))]
    assert len(codes) >= 12
    for code in codes:
        spec = message_templates_registered()[code]
        for channel in spec.channels:
            for language in ("fr", AR, EN):
                subject, body = spec.default(channel, language)
                assert template_problems(spec, channel=channel, subject=subject, body=body) == [], (code, language)
                if channel == "SMS":
                    filled = _format(body, spec.examples())
                    assert sms_length(filled).segments <= 2, (code, language, filled)
                    if language == AR:
                        assert len(filled) <= 134 and body != spec.default(channel, "fr")[1], code


# --- outage notices -----------------------------------------------------------------------------------


def test_outage_sms_in_each_customers_language_composed_once_per_language():
    now = clock.now()
    staff = StaffFactory()
    french, arabic, english, arabic_too = (_customer("Saknia") for _ in range(4))
    Customer.objects.filter(pk__in=[arabic.pk, arabic_too.pk]).update(language=AR)
    Customer.objects.filter(pk=english.pk).update(language=EN)
    notice = outages.outage_notice_create(data=_data(now=now), user=staff, now=now)
    with CaptureQueriesContext(connection) as queries:
        result = outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    assert result.sms == 4
    table = f'INSERT INTO "{Message._meta.db_table}"'
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(table)]
    assert len(inserts) == 1  # set-based: one bulk insert whatever the number of customers and languages

    def body(customer) -> str:
        return Message.objects.get(kind=f"outage:{notice.pk}:notice", recipient=customer.contacts.get().value).body

    assert "coupure d'eau programmée" in body(french) and "Motif : Raccordement" in body(french)
    assert body(arabic) == body(arabic_too)
    assert body(arabic).startswith("RAK: انقطاع الماء المبرمج من ") and "Saknia" in body(arabic)
    assert "السبب: Raccordement" in body(arabic)
    assert sms_length(body(arabic)).segments <= 2
    assert body(english).startswith("RAK: planned water outage from ") and "Reason: Raccordement" in body(english)
    assert sms_length(body(english)).encoding == "GSM-7"

    outages.outage_notice_update(
        notice_id=notice.pk, expected_end_at=notice.expected_end_at + timedelta(hours=3), user=staff, now=now
    )
    updated = {m.recipient: m.body for m in Message.objects.filter(kind=f"outage:{notice.pk}:updated", channel="SMS")}
    assert "الانتهاء المتوقع الآن" in updated[arabic.contacts.get().value]
    assert "la fin est maintenant prévue" in updated[french.contacts.get().value]
    assert "now expected to end" in updated[english.contacts.get().value]

    outages.outage_notice_cancel(notice_id=notice.pk, reason="Travaux reportés", user=staff, now=now)
    cancelled = Message.objects.get(kind=f"outage:{notice.pk}:cancelled", recipient=arabic.contacts.get().value)
    assert cancelled.body.startswith(f"RAK: إلغاء الإشعار {notice.number}") and "Travaux reportés" in cancelled.body
    assert sms_length(cancelled.body).segments <= 2


def test_an_arabic_outage_sms_with_many_districts_stays_within_two_sms():
    now = clock.now()
    staff = StaffFactory()
    names = [f"Quartier Maâmora Extension {i}" for i in range(8)]
    for name in names:
        Customer.objects.filter(pk=_customer(name).pk).update(language=AR)
    notice = outages.outage_notice_create(
        data=_data(now=now, districts=tuple(names), reason="Réparation d'une fuite " * 10), user=staff, now=now
    )
    outages.outage_notice_publish(notice_id=notice.pk, user=staff, now=now)
    bodies = set(Message.objects.filter(kind=f"outage:{notice.pk}:notice").values_list("body", flat=True))
    assert len(bodies) == 1
    arabic = bodies.pop()
    assert arabic.startswith("RAK: انقطاع الماء المبرمج") and sms_length(arabic).segments <= 2


def test_a_canned_reply_is_offered_in_the_complainants_language(arabic_customer, now):
    customer, user = arabic_customer
    complaint = services.complaint_file(filing=_filing(), customer=customer, user=user, now=now)
    with translation.override("fr"):  # the back office
        text_ar = canned_reply_text("accuse", complaint)
    assert text_ar.startswith("مرحبا Amina Alaoui، توصلنا بشكايتك رقم") and complaint.number in text_ar
    Customer.objects.filter(pk=customer.pk).update(language="fr")
    complaint = Complaint.objects.get(pk=complaint.pk)
    assert canned_reply_text("accuse", complaint).startswith("Bonjour Amina Alaoui, nous avons bien reçu")
    assert canned_reply_text("unknown", complaint) == ""
