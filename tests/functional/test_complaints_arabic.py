"""Issue 12 in a real browser, on a 390 px phone: a visitor on the Arabic site sends a complaint
(right to left, nothing wider than the screen, the categories and the form in Arabic) and receives
the SMS « de prise en charge » in Arabic, in one SMS; « Signaler une fuite ou une coupure » in
Arabic fills the browser's position and says so in a whole Arabic sentence (complaints.js reads its
words from the page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from rak_base.sms_length import sms_length
from rak_requests.complaint_models import Complaint
from tests.functional.test_phone_layout import PHONE, assert_fits

pytestmark = pytest.mark.functional

VISITOR_PHONE = "+212661002244"


def _arabic(page, live_server) -> None:
    page.context.add_cookies([{"name": "rak_language", "value": "ar", "url": live_server.url}])
    page.set_viewport_size(PHONE)


def test_a_visitor_sends_a_complaint_in_arabic_and_gets_the_sms_in_arabic(page, live_server, sms_outbox, settings):
    settings.SITE_URL = live_server.url
    _arabic(page, live_server)
    page.goto("/services/reclamation/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    expect(page.get_by_role("heading", level=1)).to_have_text("إرسال شكاية")
    assert_fits(page, "إرسال شكاية")
    page.get_by_label("الاسم الكامل").fill("هاجر بناني")
    page.get_by_label("الهاتف").fill("0661002244")
    page.get_by_label("الفئة").select_option(label="قراءة العداد / العداد")
    page.get_by_label("الرسالة").fill("عدادي متوقف منذ أسبوع.")
    page.wait_for_timeout(3200)  # a person takes a few seconds: faster is refused as a robot
    page.get_by_role("button", name="إرسال طلبك").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("تم إرسال شكايتك بنجاح")
    number = page.get_by_test_id("complaint-number").inner_text()
    assert Complaint.objects.get(number=number).customer is None
    expect(page.locator("main")).to_contain_text("المنتهي بـ 44")
    assert_fits(page, "تم إرسال الشكاية")
    sms = sms_outbox.last(VISITOR_PHONE).body
    assert sms == f"RAK: سجلت شكايتك رقم {number}. سنتصل بك. التتبع: «شكاياتي»"
    assert sms_length(sms).segments == 1


def test_the_incident_form_says_the_position_in_arabic(page, live_server):
    _arabic(page, live_server)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 34.261, "longitude": -6.58, "accuracy": 12})
    page.goto("/services/signaler-fuite-ou-coupure/")
    expect(page.get_by_role("heading", level=1)).to_have_text("الإبلاغ عن تسرب أو انقطاع")
    assert_fits(page, "الإبلاغ عن تسرب أو انقطاع")
    page.get_by_role("button", name="استعمال موقعي").click()
    status = "تم تسجيل الموقع: \u206634.261000, -6.580000\u2069 (الدقة 12 م)."  # coordinates left to right
    expect(page.locator("[data-geo-status]")).to_have_text(status)
    assert page.locator("input[name=latitude]").input_value() == "34.261000"
