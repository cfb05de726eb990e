"""CMI HASH ver3 (rak_payment_cmi.hashing): escaping, ordering, exclusions, empty values, known
vectors from a public NestPay integration, constant-time verification."""

from __future__ import annotations

import base64
import hashlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rak_payment_cmi import hashing

KEY = "TEST1234"


def sha512_b64(text: str) -> str:
    return base64.b64encode(hashlib.sha512(text.encode("utf-8")).digest()).decode()


# --- escaping ------------------------------------------------------------------------------------


def test_backslash_is_escaped_before_pipe():
    # "\" first: "a\|b" -> "a\\\|b" (escaping "|" first would give "a\\\\|b").
    assert hashing.escape("a\\|b") == "a\\\\\\|b"
    assert hashing.escape("x|y") == "x\\|y"
    assert hashing.escape("c:\\dir") == "c:\\\\dir"


def test_values_and_store_key_are_escaped_in_the_plaintext():
    plain = hashing.hash_plaintext({"BillToName": "A|B", "email": "a\\b@x.ma"}, "k|ey\\")
    assert plain == "A\\|B|a\\\\b@x.ma|k\\|ey\\\\"


def test_a_pipe_in_a_value_cannot_pass_for_a_separator():
    split_one_way = {"a": "x|y", "b": "z"}
    split_other_way = {"a": "x", "b": "y|z"}
    assert hashing.hash_compute(split_one_way, KEY) != hashing.hash_compute(split_other_way, KEY)


# --- ordering, exclusions, empty values ----------------------------------------------------------------


def test_names_are_sorted_case_insensitively():
    fields = {"okUrl": "3", "amount": "1", "BillToName": "2", "TranType": "5", "storetype": "4"}
    assert hashing.hashed_names(fields) == ["amount", "BillToName", "okUrl", "storetype", "TranType"]
    assert hashing.hash_plaintext(fields, KEY) == f"1|2|3|4|5|{KEY}"


def test_sorting_is_php_natcasesort():
    # digit runs compare as numbers; letters folded to upper case as PHP's strnatcasecmp does, so
    # "_" (0x5F) sorts after the letters.
    assert hashing.hashed_names(["item10", "item2", "Item1"]) == ["Item1", "item2", "item10"]
    assert hashing.hashed_names(["a_b", "aB", "aa"]) == ["aa", "aB", "a_b"]
    assert hashing.hashed_names(["EXTRA.TRXDATE", "EXTRA.CARDBRAND", "ErrMsg"]) == [
        "ErrMsg",
        "EXTRA.CARDBRAND",
        "EXTRA.TRXDATE",
    ]


@pytest.mark.parametrize("name", ["hash", "HASH", "Hash", "encoding", "ENCODING", "Encoding"])
def test_hash_and_encoding_are_left_out_whatever_their_case(name):
    base = {"amount": "95.93", "oid": "RAK1"}
    assert hashing.hash_compute({**base, name: "anything"}, KEY) == hashing.hash_compute(base, KEY)


def test_every_other_field_counts_including_hashparams():
    base = {"amount": "95.93", "oid": "RAK1"}
    for extra in ("HASHPARAMS", "HASHPARAMSVAL", "rnd", "callbackCall"):
        assert hashing.hash_compute({**base, extra: "x"}, KEY) != hashing.hash_compute(base, KEY)


def test_empty_values_keep_their_place():
    fields = {"a": "", "b": "x", "c": None}
    assert hashing.hash_plaintext(fields, KEY) == f"|x||{KEY}"
    assert hashing.hash_compute(fields, KEY) == sha512_b64(f"|x||{KEY}")
    assert hashing.hash_compute(fields, KEY) != hashing.hash_compute({"b": "x"}, KEY)


def test_values_are_trimmed():
    assert hashing.hash_compute({"BillToName": "  Alaoui \n", "oid": "1"}, KEY) == hashing.hash_compute(
        {"BillToName": "Alaoui", "oid": "1"}, KEY
    )


def test_digest_is_base64_of_raw_sha512_of_utf8():
    fields = {"BillToName": "Hélène Ékra", "amount": "10.00"}
    value = hashing.hash_compute(fields, KEY)
    assert value == sha512_b64(f"10.00|Hélène Ékra|{KEY}")
    assert len(base64.b64decode(value)) == 64


# --- known vectors (mewebstudio/pos tests/Crypt/EstV3PosCryptTest.php, store key "123456") ---------

NESTPAY_KEY = "123456"


def test_known_vector_3d_pay_request():
    request = {
        "clientid": "190100000",
        "storetype": "3d_pay",
        "amount": "100.25",
        "oid": "order222",
        "okUrl": "https://domain.com/success",
        "failUrl": "https://domain.com/fail_url",
        "rnd": "rand",
        "lang": "tr",
        "currency": "949",
        "taksit": "",
        "islemtipi": "Auth",
        "firmaadi": "siparis veren",
        "Email": "test@test.com",
        "hashAlgorithm": "ver3",
    }
    expected = "/uPxhEKWCEGi3NsDOOQ4u8Hu5g71v5GWspOid70WehTWEz97PqxG3IN1Jv5jsbOXOw3Z3Rr/0UtywzEgbqFfdA=="
    assert hashing.hash_compute(request, NESTPAY_KEY) == expected


def test_known_vector_3d_secure_request():
    request = {
        "clientid": "190100000",
        "storetype": "3d",
        "amount": "100.25",
        "oid": "order222",
        "okUrl": "https://domain.com/success",
        "failUrl": "https://domain.com/fail_url",
        "rnd": 12345,
        "hashAlgorithm": "ver3",
        "lang": "tr",
        "currency": 949,
        "islemtipi": "Auth",
        "taksit": "",
    }
    expected = "4aUsG5hqlIFLc9s8PKc5rWb2OLhmxDDewNgKa2XrwoYCIxlyVq8Fjl4IVaZzoqL983CfTseicmnTA0PjZr74xg=="
    assert hashing.hash_compute(request, NESTPAY_KEY) == expected


APPROVED_CALLBACK = {  # a real approved 3D_PAY answer (all fields the gateway posted)
    "ReturnOid": "202210308C0F",
    "TRANID": None,
    "hashAlgorithm": "ver3",
    "PAResSyntaxOK": "true",
    "firmaadi": "John Doe",
    "islemtipi": "Auth",
    "lang": "tr",
    "merchantID": "190200000",
    "maskedCreditCard": "4355 08** **** 4358",
    "amount": "1.01",
    "sID": "1",
    "ACQBIN": "454672",
    "Ecom_Payment_Card_ExpDate_Year": "26",
    "EXTRA_CARDBRAND": "VISA",
    "Email": "mail@customer.com",
    "MaskedPan": "435508***4358",
    "acqStan": "184784",
    "merchantName": "Ziraat 3D_Pay",
    "clientIp": "89.244.149.137",
    "EXTRA_KAZANILANPUAN": "000000010.00",
    "okUrl": "http://localhost/akbank/3d-pay/response.php",
    "md": "435508:51104213993AC8DFE8839C7F7E391B461115D09A1D88948C8ACE421D7D7EAA5A:3545:##190200000",
    "ProcReturnCode": "00",
    "payResults_dsId": "1",
    "taksit": None,
    "TransId": "22303RqiC11252",
    "EXTRA_TRXDATE": "20221030 17:42:33",
    "Ecom_Payment_Card_ExpDate_Month": "12",
    "storetype": "3d_pay",
    "Response": "Approved",
    "SettleId": "2383",
    "mdErrorMsg": "Y-status/Challenge authentication via ACS: "
    "https://3ds-acs.test.modirum.com/mdpayacs/creq?token=214711321.1667140951.Ud_jQl3B2l1",
    "ErrMsg": None,
    "PAResVerified": "true",
    "cavv": "ABABBCgghAAAAABllJMDdZdTdic=",
    "digest": "digest",
    "HostRefNum": "230317184784",
    "callbackCall": "true",
    "AuthCode": "216981",
    "failUrl": "http://localhost/akbank/3d-pay/response.php",
    "xid": "N1An1iS5iN4u/1VWS6CgzSGRtN0=",
    "encoding": "ISO-8859-9",
    "currency": "949",
    "oid": "202210308C0F",
    "mdStatus": "1",
    "dsId": "1",
    "eci": "05",
    "version": "2.0",
    "EXTRA_CARDISSUER": "AKBANK T.A.S.",
    "clientid": "190200000",
    "txstatus": "Y",
    "HASH": "jVgcwtx4vxxAcX8+ajsrrzp77k9uaGu1pjDQfCpoUG95y2MwwGipc6cF3kESiTphjV8/1ESSc6zg9KyTSxUnzA==",
    "rnd": "J/jGATA5LLVaMfpU+Yyu",
}


def test_known_vector_gateway_answer_verifies_over_every_posted_field():
    assert hashing.hash_verify(APPROVED_CALLBACK, NESTPAY_KEY)
    assert hashing.hash_compute(APPROVED_CALLBACK, NESTPAY_KEY) == APPROVED_CALLBACK["HASH"]


@pytest.mark.parametrize(
    "change",
    [{"amount": "100.01"}, {"ProcReturnCode": "51"}, {"mdStatus": ""}, {"extra": "field"}],
)
def test_known_vector_tampered_fails(change):
    assert not hashing.hash_verify({**APPROVED_CALLBACK, **change}, NESTPAY_KEY)
    assert not hashing.hash_verify(APPROVED_CALLBACK, "another-key")


# --- verification --------------------------------------------------------------------------------------


def test_verify_uses_constant_time_comparison(monkeypatch):
    calls = []
    real = hashing.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hashing.hmac, "compare_digest", spy)
    signed = hashing.sign({"oid": "RAK1", "amount": "10.00"}, KEY)
    assert hashing.hash_verify(signed, KEY)
    assert calls


def test_verify_refuses_missing_hash_or_key():
    assert not hashing.hash_verify({"oid": "RAK1"}, KEY)
    assert not hashing.hash_verify(hashing.sign({"oid": "RAK1"}, KEY), "")


def test_verify_reads_the_hash_field_whatever_its_case():
    signed = hashing.sign({"oid": "RAK1", "amount": "10.00"}, KEY)
    lower = {**{k: v for k, v in signed.items() if k != "HASH"}, "hash": signed["HASH"]}
    assert hashing.hash_verify(lower, KEY)


def answer(fields: dict[str, str], hashed_values: list[str]) -> dict[str, str]:
    """``fields`` posted with a HASH over ``hashed_values`` (in name order), as CMI would sign."""
    return {**fields, "HASH": sha512_b64("|".join([*map(hashing.escape, hashed_values), KEY]))}


# What CMI's merchant kit hashes for an answer: html_entity_decode(preg_replace("/\n$/", "", v),
# ENT_QUOTES, 'UTF-8') — no trim. Each of these is accepted by the kit.
KIT_ACCEPTS = [
    pytest.param({"BillToName": " Alaoui ", "oid": "1"}, [" Alaoui ", "1"], id="leading-and-trailing-space"),
    pytest.param({"BillToName": "Dupont &amp; Fils", "oid": "1"}, ["Dupont & Fils", "1"], id="amp-entity"),
    pytest.param(
        {"BillToName": "Dupont &amp; Fils ", "oid": "1"}, ["Dupont & Fils ", "1"], id="entity-and-trailing-space"
    ),
    pytest.param(
        {"BillToName": "Alaoui ", "BillToStreet1": "Rue d&#039;Agadir &quot;B&quot;", "oid": "1"},
        ["Alaoui ", 'Rue d\'Agadir "B"', "1"],
        id="space-in-one-field-entity-in-another",
    ),
    pytest.param({"BillToName": "Alaoui\n", "oid": "1"}, ["Alaoui", "1"], id="one-trailing-newline-removed"),
    pytest.param({"BillToName": "Alaoui \n", "oid": "1"}, ["Alaoui ", "1"], id="newline-removed-space-kept"),
    pytest.param({"BillToName": "a\n\n", "oid": "1"}, ["a", "1"], id="pcre-dollar-before-final-newline"),
    pytest.param({"BillToName": "a\n\n\n", "oid": "1"}, ["a\n", "1"], id="pcre-three-newlines"),
    pytest.param({"BillToName": "&lt;b&gt; &eacute;&#233;&#xE9;&#XE9;", "oid": "1"}, ["<b> éééé", "1"], id="entities"),
    pytest.param({"BillToName": "AT&T &amp R&eacute", "oid": "1"}, ["AT&T &amp R&eacute", "1"], id="no-semicolon"),
    pytest.param({"BillToName": "l&apos;eau", "oid": "1"}, ["l&apos;eau", "1"], id="apos-not-html401"),
    pytest.param(
        {"BillToName": "&#128;&#0;&#1114112;&#99999999999;", "oid": "1"},
        ["&#128;&#0;&#1114112;&#99999999999;", "1"],
        id="numeric-not-allowed-verbatim",
    ),
    pytest.param({"BillToName": "&#0000065;&amp;lt;", "oid": "1"}, ["A&lt;", "1"], id="decoded-once"),
    pytest.param({"BillToName": "a|b\\ &#124;", "oid": "1"}, ["a|b\\ |", "1"], id="escaped-after-decoding"),
]


@pytest.mark.parametrize(("fields", "hashed"), KIT_ACCEPTS)
def test_answer_verifies_exactly_as_cmi_kit_hashes_it(fields, hashed):
    assert hashing.hash_verify(answer(fields, hashed), KEY)
    assert hashing.answer_sign(fields, KEY) == answer(fields, hashed)


# ... and nothing more: each of these the kit answers FAILURE.
KIT_REFUSES = [
    pytest.param({"BillToName": " Alaoui ", "oid": "1"}, ["Alaoui", "1"], id="hash-over-trimmed-value"),
    pytest.param({"BillToName": "l&apos;eau", "oid": "1"}, ["l'eau", "1"], id="apos-decoded-html5-style"),
    pytest.param({"BillToName": "R&eacute", "oid": "1"}, ["Ré", "1"], id="entity-without-semicolon-decoded"),
    pytest.param({"BillToName": "&#128;", "oid": "1"}, ["€", "1"], id="cp1252-remap"),
    pytest.param({"BillToName": "Dupont &amp; Fils", "oid": "1"}, ["Dupont &amp; Fils", "1"], id="entity-not-decoded"),
    pytest.param({"BillToName": "&amp;lt;", "oid": "1"}, ["<", "1"], id="decoded-twice"),
]


@pytest.mark.parametrize(("fields", "hashed"), KIT_REFUSES)
def test_answer_hashed_otherwise_is_refused(fields, hashed):
    assert not hashing.hash_verify(answer(fields, hashed), KEY)


def test_received_hash_is_compared_as_posted():
    signed = hashing.answer_sign({"oid": "RAK1", "amount": "10.00"}, KEY)
    assert not hashing.hash_verify({**signed, "HASH": signed["HASH"] + " "}, KEY)


def test_request_is_signed_over_the_trimmed_values_it_posts():
    signed = hashing.sign({"BillToName": " Alaoui ", "oid": "1"}, KEY)
    assert signed["BillToName"] == "Alaoui"
    assert signed["HASH"] == sha512_b64(f"Alaoui|1|{KEY}")
    assert hashing.request_hash_verify(signed, KEY)
    assert not hashing.request_hash_verify({**signed, "oid": "2"}, KEY)


field_names = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=12).filter(
    lambda name: name.lower() not in hashing.EXCLUDED_NAMES
)


@given(st.dictionaries(field_names, st.text(max_size=30), min_size=1, max_size=8), st.text(min_size=1, max_size=20))
def test_sign_then_verify_round_trip(fields, key):
    assert hashing.request_hash_verify(hashing.sign(fields, key), key)
    assert hashing.hash_verify(hashing.answer_sign(fields, key), key)


@given(st.dictionaries(field_names, st.text(max_size=30), min_size=1, max_size=8), st.text(min_size=1, max_size=8))
def test_changing_a_value_breaks_the_hash(fields, addition):
    signed = hashing.answer_sign(fields, "store-key")
    name = sorted(fields)[0]
    tampered = {**signed, name: signed[name].strip(hashing.PHP_TRIM) + "X" + addition}
    assert not hashing.hash_verify(tampered, "store-key")


# --- amounts -------------------------------------------------------------------------------------------


def test_amount_format_two_decimals_with_a_dot():
    assert hashing.amount_format(Decimal("95.93")) == "95.93"
    assert hashing.amount_format(Decimal("221.2")) == "221.20"
    assert hashing.amount_format(Decimal("0.005")) == "0.01"
    assert hashing.amount_format(Decimal("1000")) == "1000.00"
    with pytest.raises(TypeError):
        hashing.amount_format(95.93)


def test_amount_parse():
    assert hashing.amount_parse("95.93") == Decimal("95.93")
    assert hashing.amount_parse(" 95,93 ") == Decimal("95.93")
    assert hashing.amount_parse("abc") is None
    assert hashing.amount_parse("") is None
    assert hashing.amount_parse("NaN") is None
