#!/usr/bin/env python3
"""Benchmark the Direction's report pages (issue 14) on the large database of ``bench_pages.py``.

Goal: each report page answers in ≤ 1 s at 200,000 customers and 6.6 M bills.

1. The database: ``rak_bench_pages`` (``bench_pages.py``: 200,000 customers, 553,485 dossiers,
   6.6 M bills, 5.8 M payments); built through ``bench_pages.build`` when absent (its payments
   spread over the channels as they are inserted: CMI card, agents' networks, direct debit,
   cheque, transfer, cash); a populated but unfinished build is resumed with only what the reports
   read (bills, payments, allocations, settled bills: lines and ledger left to
   ``bench_pages.py --reuse``).
2. What the reports read and the builder does not write, added set-based (each step once: a step
   whose rows exist is skipped; see ``EXTRA_STEPS``): one meter reading per consumption bill of
   the last ``--reading-months`` (agent / self-reading / estimated, ~1 % held for a check and their
   outcome), 40 staff agents, 24,000 service requests with their phase history, 36,000 complaints
   with their thread (first answer, closure, reopenings, ratings), portal accounts for ~35 % of
   customers (half of them on e-facture), their active days and the portal's page hits, 60,000
   outbox messages a month (SMS / e-mail / bell / push, sent / failed / skipped, SMS segments),
   today's CMI orders; then ``manage.py migrate`` (pending migrations; the reports' views missing
   or changed are built).
3. Refresh every registered materialised view (``matview_refresh``, as the scheduler's job does)
   and record each one's time and row count.
4. Start gunicorn (one sync worker, ``config.wsgi``, DEBUG off) and request, as a logged-in staff
   member of the « direction » group, one after the other: the dashboard (without and with
   filters) and, for every registered report, its page without filters (the last 12 months), its
   page with every filter it accepts (3 months, a district, an agency, a service, a customer
   type), its XLSX and its PDF (last 12 months) — ``--repeat`` times each after one cold request.
   Server time = gunicorn's access-log ``%(D)s``. The query count of each address is measured once
   in-process (Django's test ``Client`` + ``CaptureQueriesContext``, same database).
5. Print p50 / p95 / max, the cold request, the queries and the size per address, and the Markdown
   rows for docs/BENCHMARKS.md (``--record``: inserted above the section's marker).

    .venv/bin/python bench/bench_reports.py --repeat 3      # build or resume, add, migrate, refresh, measure
    .venv/bin/python bench/bench_reports.py --reuse --record   # the database is ready: refresh, measure, record
    .venv/bin/python bench/bench_reports.py --reuse --no-refresh --reports creances --repeat 5

Timings are measured here, never asserted by tests (tests assert query counts).
"""

from __future__ import annotations

import argparse
import http.client
import os
import signal
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
MARKER = "<!-- bench_reports: new rows above this line -->"
MARKER_VIEWS = "<!-- bench_reports: new view rows above this line -->"
sys.path[:0] = [str(BENCH), str(ROOT), str(ROOT / "addons")]

import bench_pages  # noqa: E402 - the builder of the large database
from common import environment, machine  # noqa: E402

AGENTS = 40
REQUESTS = 24_000
COMPLAINTS = 36_000
MESSAGES_PER_MONTH = 60_000
CMI_ORDERS_TODAY = 600

# --- 2. what the reports read and the builder does not write ----------------------------------------

PAYMENT_CHANNELS_SQL = """
UPDATE rak_billing_payment SET method = CASE
    WHEN abs(hashtext(id::text)) %% 100 < 24 THEN 'CARD_CMI'
    WHEN abs(hashtext(id::text)) %% 100 < 42 THEN 'AGENT_NETWORK'
    WHEN abs(hashtext(id::text)) %% 100 < 52 THEN 'DIRECT_DEBIT'
    WHEN abs(hashtext(id::text)) %% 100 < 56 THEN 'CHEQUE'
    ELSE 'TRANSFER' END
WHERE method = 'CASH' AND abs(hashtext(id::text)) %% 100 < 59
"""

# the builder's payments (bench_pages.PAYMENTS_SQL) with the same spread over the channels
PAYMENTS_BY_CHANNEL_SQL = bench_pages.PAYMENTS_SQL.replace(
    "b.total_ttc, 'CASH',",
    "b.total_ttc, (ARRAY['CARD_CMI', 'AGENT_NETWORK', 'DIRECT_DEBIT', 'CHEQUE', 'TRANSFER', 'CASH'])"
    "[1 + width_bucket(abs(hashtext(b.id::text)) %% 100, ARRAY[24, 42, 52, 56, 59])],",
)
assert PAYMENTS_BY_CHANNEL_SQL != bench_pages.PAYMENTS_SQL, "bench_pages.PAYMENTS_SQL changed: adapt the channels"

# one reading per consumption bill (its period's last day): estimated bills ESTIMATED, ~12 % self-read,
# ~1 % held for a check (the last month's still HELD, older ones decided: ~40 % rejected)
READINGS_SQL = """
INSERT INTO rak_billing_meterreading (
    dossier_id, meter_id, reading_date, index, previous_index, consumption, source, status, meter_replaced,
    photo, note, contest_note, contest_photo, review_note, review_request_note, reviewed_at, created_at)
SELECT b.dossier_id, d.meter_id, b.period_end - 1, b.current_index, b.previous_index, b.consumption,
       CASE WHEN b.estimated THEN 'ESTIMATED' WHEN x.h %% 100 < 12 THEN 'SELF' ELSE 'AGENT' END,
       CASE WHEN b.estimated OR x.h %% 1000 >= 10 THEN 'ACCEPTED'
            WHEN b.period_start >= %(last)s THEN 'HELD'
            WHEN x.h %% 1000 < 4 THEN 'REJECTED' ELSE 'ACCEPTED' END,
       false, '', '', '', '', CASE WHEN NOT b.estimated AND x.h %% 1000 < 10 AND b.period_start < %(last)s
                                   THEN 'Vérifié (bench)' ELSE '' END, '',
       CASE WHEN NOT b.estimated AND x.h %% 1000 < 10 AND b.period_start < %(last)s
            THEN (b.period_end + 3)::timestamp + interval '10 hours' END,
       (b.period_end - 1)::timestamp + interval '9 hours'
FROM rak_billing_bill b
JOIN rak_customer_dossier d ON d.id = b.dossier_id
CROSS JOIN LATERAL (SELECT abs(hashtext(b.number)) AS h) x
WHERE b.kind = 'CONSUMPTION' AND d.meter_id IS NOT NULL AND b.period_start >= %(readings_from)s
  AND NOT EXISTS (SELECT 1 FROM rak_billing_meterreading r
                   WHERE r.dossier_id = b.dossier_id AND r.reading_date = b.period_end - 1)
"""

AGENTS_SQL = """
INSERT INTO rak_base_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                           date_joined, role, must_change_password)
SELECT '!bench', false, 'bench-agent-' || lpad(g::text, 2, '0'), 'Agent', lpad(g::text, 2, '0'), '', true, true,
       %(start)s, 'STAFF', false
FROM generate_series(1, %(agents)s) g
"""
AGENT_GROUPS_SQL = """
INSERT INTO rak_base_user_groups (user_id, group_id)
SELECT u.id, g.id FROM rak_base_user u
JOIN auth_group g ON g.name = CASE WHEN u.id %% 2 = 0 THEN 'accueil' ELSE 'technique' END
WHERE u.username LIKE 'bench-agent-%%'
"""

# service requests spread over the period, the older ones decided, the recent ones in a phase;
# the current phase's start and due date from a per-request step of 2–7 days per phase
REQUESTS_SQL = """
WITH ph AS (
    SELECT p.id, p.request_type_id, p.position, p.sla_days,
           dense_rank() OVER (ORDER BY p.request_type_id) - 1 AS tk,
           count(*) OVER (PARTITION BY p.request_type_id) AS n
    FROM rak_requests_phase p),
nt AS (SELECT count(DISTINCT request_type_id) AS n FROM rak_requests_phase),
dd AS (SELECT min(id) AS lo, max(id) - min(id) + 1 AS span FROM rak_customer_dossier),
ag AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM rak_base_user WHERE username LIKE 'bench-agent-%%'),
s AS (
    SELECT 'BQ' || lpad(g::text, 8, '0') AS number,
           abs(hashtext('BQ' || lpad(g::text, 8, '0'))) AS h,
           %(start)s::timestamptz + (%(span)s::bigint * g / %(n)s) * interval '1 second' AS filed
    FROM generate_series(1, %(n)s) g),
st AS (
    SELECT s.*, CASE
        WHEN s.filed < %(recent)s THEN CASE WHEN s.h %% 100 < 80 THEN 'ACCEPTEE' WHEN s.h %% 100 < 92 THEN 'REJETEE'
                                            ELSE 'ANNULEE' END
        ELSE CASE WHEN s.h %% 100 < 40 THEN 'EN_COURS' WHEN s.h %% 100 < 55 THEN 'COMPLEMENT_DEMANDE'
                  WHEN s.h %% 100 < 90 THEN 'ACCEPTEE' ELSE 'REJETEE' END END AS status,
        2 + s.h %% 6 AS step
    FROM s)
INSERT INTO rak_requests_servicerequest (
    number, request_type_id, customer_id, premises_id, phase_id, status, expected_action, data, channel, assigned_to_id,
    filed_at, phase_started_at, phase_due_at, processed_at)
SELECT st.number, ph.request_type_id, d.customer_id, d.premises_id, ph.id, st.status, 'NONE', '{}'::jsonb,
       CASE WHEN st.h %% 3 = 0 THEN 'AGENCY' ELSE 'WEB' END, ag.id, st.filed,
       st.filed + (ph.position - 1) * st.step * interval '1 day',
       st.filed + ((ph.position - 1) * st.step + ph.sla_days) * interval '1 day',
       CASE WHEN st.status IN ('ACCEPTEE', 'REJETEE', 'ANNULEE')
            THEN least(st.filed + ph.position * st.step * interval '1 day', %(now)s) END
FROM st
CROSS JOIN nt CROSS JOIN dd
JOIN rak_customer_dossier d ON d.id = dd.lo + st.h %% dd.span
JOIN ag ON ag.k = (st.h / 11) %% %(agents)s
JOIN ph ON ph.tk = st.h %% nt.n
       AND ph.position = CASE WHEN st.status = 'ACCEPTEE' THEN ph.n ELSE 1 + (st.h / 7) %% ph.n END
"""
REQUEST_EVENTS_SQL = """
WITH r AS (
    SELECT r.*, 2 + abs(hashtext(r.number)) %% 6 AS step, cur.position AS cur_position
    FROM rak_requests_servicerequest r JOIN rak_requests_phase cur ON cur.id = r.phase_id
    WHERE r.number LIKE 'BQ%%')
INSERT INTO rak_requests_requestevent (request_id, at, kind, actor_kind, actor_id, message, internal, data,
                                       from_phase_id, to_phase_id)
SELECT r.id, r.filed_at, 'FILED', 'CUSTOMER', NULL, '', false, '{}'::jsonb, NULL, p.id
FROM r JOIN rak_requests_phase p ON p.request_type_id = r.request_type_id AND p.position = 1
UNION ALL
SELECT r.id, r.filed_at + (p.position - 1) * r.step * interval '1 day', 'PHASE', 'STAFF', r.assigned_to_id, '',
       false, '{}'::jsonb, prev.id, p.id
FROM r
JOIN rak_requests_phase p ON p.request_type_id = r.request_type_id AND p.position BETWEEN 2 AND r.cur_position
JOIN rak_requests_phase prev ON prev.request_type_id = r.request_type_id AND prev.position = p.position - 1
UNION ALL
SELECT r.id, r.processed_at,
       CASE r.status WHEN 'ACCEPTEE' THEN 'ACCEPTED' WHEN 'REJETEE' THEN 'REJECTED' ELSE 'CANCELLED' END,
       CASE r.status WHEN 'ANNULEE' THEN 'CUSTOMER' ELSE 'STAFF' END,
       CASE r.status WHEN 'ANNULEE' THEN NULL ELSE r.assigned_to_id END, '', false, '{}'::jsonb, r.phase_id, NULL
FROM r WHERE r.processed_at IS NOT NULL
"""

COMPLAINTS_SQL = """
WITH cat AS (SELECT c.*, row_number() OVER (ORDER BY c.id) - 1 AS k, count(*) OVER () AS n
             FROM rak_requests_complaintcategory c),
dd AS (SELECT min(id) AS lo, max(id) - min(id) + 1 AS span FROM rak_customer_dossier),
ag AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM rak_base_user WHERE username LIKE 'bench-agent-%%'),
s AS (
    SELECT 'BR' || lpad(g::text, 8, '0') AS number, abs(hashtext('BR' || lpad(g::text, 8, '0'))) AS h,
           %(start)s::timestamptz + (%(span)s::bigint * g / %(n)s) * interval '1 second' AS filed
    FROM generate_series(1, %(n)s) g),
st AS (
    SELECT s.*, CASE
        WHEN s.filed < %(recent)s THEN CASE WHEN s.h %% 100 < 97 THEN 'CLOSED' ELSE 'IN_PROGRESS' END
        ELSE CASE WHEN s.h %% 100 < 20 THEN 'NEW' WHEN s.h %% 100 < 50 THEN 'IN_PROGRESS'
                  WHEN s.h %% 100 < 60 THEN 'WAITING_CUSTOMER' ELSE 'CLOSED' END END AS status
    FROM s),
t AS (
    SELECT st.*, cat.id AS category_id, cat.name AS category_name, cat.sla_hours, cat.first_answer_hours,
           cat.about_bill, cat.is_incident, d.id AS dossier_id, d.customer_id, d.premises_id, pr.district,
           cu.code, cu.agency_id, ag.id AS agent_id,
           CASE WHEN st.status = 'CLOSED'
                THEN least(st.filed + (cat.sla_hours * (20 + st.h %% 150) / 100.0)::float8 * interval '1 hour',
                           %(now)s) END
               AS closed,
           CASE WHEN st.status <> 'NEW'
                THEN st.filed + (cat.first_answer_hours * (10 + st.h %% 140) / 100.0)::float8 * interval '1 hour' END
               AS answered
    FROM st CROSS JOIN dd
    JOIN cat ON cat.k = (st.h / 13) %% cat.n
    JOIN rak_customer_dossier d ON d.id = dd.lo + st.h %% dd.span
    JOIN rak_customer_customer cu ON cu.id = d.customer_id
    JOIN rak_customer_premises pr ON pr.id = d.premises_id
    JOIN ag ON ag.k = (st.h / 17) %% %(agents)s)
INSERT INTO rak_requests_complaint (
    number, category_id, status, channel, source, customer_id, customer_code_given, reference_given, name,
    email, phone, subject, message, dossier_id, premises_id, address, district, agency_id, assigned_to_id,
    filed_at, first_answer_due_at, due_at, first_answered_at, closed_at, closed_by_id, result, reopen_count,
    rating, rating_comment, rated_at, updated_at)
SELECT t.number, t.category_id, t.status,
       (ARRAY['WEB', 'WEB', 'MOBILE', 'AGENCY', 'PHONE', 'CONTACT'])[1 + t.h %% 6],
       CASE WHEN t.is_incident THEN 'INCIDENT' WHEN t.about_bill AND t.h %% 2 = 0 THEN 'BILL' ELSE 'FORM' END,
       t.customer_id, '', '', 'Client ' || t.code, '', '', t.category_name, 'Réclamation (bench)', t.dossier_id,
       t.premises_id, '', t.district, t.agency_id, CASE WHEN t.status <> 'NEW' THEN t.agent_id END,
       t.filed, t.filed + t.first_answer_hours * interval '1 hour', t.filed + t.sla_hours * interval '1 hour',
       least(t.answered, t.closed), t.closed, CASE WHEN t.closed IS NOT NULL THEN t.agent_id END,
       CASE WHEN t.closed IS NOT NULL THEN 'Traitée (bench)' ELSE '' END,
       CASE WHEN t.h %% 100 < 6 THEN 1 ELSE 0 END,
       CASE WHEN t.closed IS NOT NULL AND t.h %% 10 < 4 THEN 1 + (t.h / 10) %% 5 END, '',
       CASE WHEN t.closed IS NOT NULL AND t.h %% 10 < 4 THEN least(t.closed + interval '1 day', %(now)s) END,
       coalesce(t.closed, t.answered, t.filed)
FROM t
"""
COMPLAINT_ENTRIES_SQL = """
WITH c AS (SELECT * FROM rak_requests_complaint WHERE number LIKE 'BR%%')
INSERT INTO rak_requests_complaintentry (complaint_id, at, kind, actor_kind, actor_id, body, internal, channels, data,
                                         file, file_name, file_type)
SELECT id, filed_at, 'FILED', 'CUSTOMER', NULL, message, false, '{}'::varchar[], '{}'::jsonb, '', '', '' FROM c
UNION ALL
SELECT id, first_answered_at, 'REPLY', 'STAFF', assigned_to_id, 'Réponse (bench)', false, '{SMS}'::varchar[],
       '{}'::jsonb, '', '', '' FROM c WHERE first_answered_at IS NOT NULL
UNION ALL
SELECT id, closed_at - interval '2 days', 'REOPENED', 'CUSTOMER', NULL, 'Réouverture (bench)', false, '{}'::varchar[],
       '{}'::jsonb, '', '', '' FROM c WHERE reopen_count > 0 AND closed_at IS NOT NULL
UNION ALL
SELECT id, closed_at, 'CLOSED', 'STAFF', closed_by_id, result, false, '{SMS}'::varchar[], '{}'::jsonb, '', '', ''
FROM c WHERE closed_at IS NOT NULL
UNION ALL
SELECT id, rated_at, 'RATED', 'CUSTOMER', NULL, '', false, '{}'::varchar[], jsonb_build_object('rating', rating),
       '', '', '' FROM c WHERE rated_at IS NOT NULL
"""

# portal accounts for ~35 % of the customers, more of them recent (signed up over three years)
PORTAL_USERS_SQL = """
INSERT INTO rak_base_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                           date_joined, role, must_change_password)
SELECT '!bench', false, c.code, '', '', '', false, true,
       %(now)s - (1095 * (1 - sqrt((abs(hashtext('pj' || c.id)) %% 10000) / 10000.0)))::float8 * interval '1 day',
       'CUSTOMER', false
FROM rak_customer_customer c
WHERE abs(hashtext('pa' || c.id)) %% 100 < 35
  AND NOT EXISTS (SELECT 1 FROM rak_customer_portalaccount pa WHERE pa.customer_id = c.id)
  AND NOT EXISTS (SELECT 1 FROM rak_base_user u WHERE u.username = c.code)
"""
PORTAL_ACCOUNTS_SQL = """
INSERT INTO rak_customer_portalaccount (user_id, customer_id, origin, created_at, pending_password,
                                        terms_accepted_at, data_processing_accepted_at)
SELECT u.id, c.id, 'KNOWN_PHONE', u.date_joined, '', u.date_joined, u.date_joined
FROM rak_base_user u JOIN rak_customer_customer c ON c.code = u.username
WHERE u.role = 'CUSTOMER' AND u.password = '!bench'
  AND NOT EXISTS (SELECT 1 FROM rak_customer_portalaccount pa WHERE pa.customer_id = c.id)
"""
E_INVOICE_SQL = """
UPDATE rak_customer_customer c SET e_invoice_since = pa.created_at + interval '2 days'
FROM rak_customer_portalaccount pa
WHERE pa.customer_id = c.id AND c.e_invoice_since IS NULL AND abs(hashtext('ef' || c.id)) %% 100 < 50
  AND pa.created_at + interval '2 days' < %(now)s
"""
# each month, ~30 % of the accounts that existed use the portal on 1–3 days
ACTIVE_DAYS_SQL = """
INSERT INTO rak_reports_activeday (day, user_id)
SELECT (m + (abs(hashtext(pa.user_id || '-' || m::date || '-' || k)) %% 28) * interval '1 day')::date, pa.user_id
FROM rak_customer_portalaccount pa
CROSS JOIN generate_series(%(start)s::timestamp, %(this_month)s::timestamp, interval '1 month') m
CROSS JOIN generate_series(1, 3) k
WHERE pa.created_at < m + interval '1 month'
  AND abs(hashtext(pa.user_id || '-' || m::date)) %% 100 < 30
  AND k <= 1 + abs(hashtext(pa.user_id || '+' || m::date)) %% 3
  AND (m + (abs(hashtext(pa.user_id || '-' || m::date || '-' || k)) %% 28) * interval '1 day')::date < %(today)s
ON CONFLICT DO NOTHING
"""
PAGE_HITS_SQL = """
INSERT INTO rak_reports_pagehit (day, route, hits)
SELECT d::date, r.route, (r.weight * (60 + abs(hashtext(r.route || d::date)) %% 80) / 10)::int
FROM generate_series(%(start)s::timestamp, %(yesterday)s::timestamp, interval '1 day') d
CROSS JOIN (VALUES ('portal:dashboard', 100), ('portal:bills', 60), ('portal:bill_detail', 45),
                   ('portal:unpaid', 40), ('portal:consumption', 30), ('portal:efacture', 20), ('portal:pay', 25),
                   ('portal:payment_receipt', 18), ('portal:requests', 10), ('portal:request_detail', 8),
                   ('portal:complaints', 9), ('portal:complaint_detail', 7), ('portal:self_reading', 12),
                   ('portal:profile', 6), ('portal:profile_notices', 3), ('portal:notifications', 15),
                   ('portal:other_bills', 5), ('portal:subscription', 2), ('portal:connection', 1),
                   ('portal:home', 80), ('portal:login', 70), ('portal:simulator', 4), ('portal:agencies', 3),
                   ('portal:quickpay', 11), ('portal:outages', 6)) AS r(route, weight)
ON CONFLICT DO NOTHING
"""
# the outbox: MESSAGES_PER_MONTH a month to accounts (SMS 45 %, e-mail 35 %, bell 15 %, push 5 %),
# 95 % sent, 3 % failed, 2 % skipped; SMS: a quarter in Arabic (UCS-2), 1–3 segments
MESSAGES_SQL = """
WITH pa AS (SELECT min(id) AS lo, max(id) - min(id) + 1 AS span FROM rak_customer_portalaccount),
s AS (
    SELECT abs(hashtext('msg' || g)) AS h,
           %(start)s::timestamptz + (%(span)s::bigint * g / %(n)s) * interval '1 second' AS created
    FROM generate_series(1, %(n)s) g),
t AS (
    SELECT s.*, a.user_id,
           CASE WHEN s.h %% 100 < 45 THEN 'SMS' WHEN s.h %% 100 < 80 THEN 'EMAIL' WHEN s.h %% 100 < 95 THEN 'BELL'
                ELSE 'PUSH' END AS channel,
           CASE WHEN (s.h / 100) %% 100 < 95 THEN 'SENT' WHEN (s.h / 100) %% 100 < 98 THEN 'FAILED'
                ELSE 'SKIPPED' END AS status,
           (ARRAY['bill_available', 'bill_available', 'bill_available', 'payment', 'payment', 'request', 'complaint',
                  'otp', 'reading_held', 'direct_debit', 'reminder', 'cutoff', 'security'])[1 + (s.h / 10000) %% 13]
               AS kind
    FROM s CROSS JOIN pa JOIN rak_customer_portalaccount a ON a.id = pa.lo + s.h %% pa.span)
INSERT INTO rak_base_message (channel, user_id, recipient, kind, event, subject, body, sensitive, status, attempts,
                              last_error, provider_id, created_at, sent_at, read_at, sms_encoding, sms_segments)
SELECT channel, user_id, CASE channel WHEN 'SMS' THEN '+2126' || lpad((h %% 100000000)::text, 8, '0')
                                      WHEN 'EMAIL' THEN 'client' || user_id || '@example.ma' ELSE '' END,
       kind, '', '', 'Message (bench)', kind = 'otp', status, CASE status WHEN 'FAILED' THEN 3 WHEN 'SENT' THEN 1
                                                                ELSE 0 END,
       CASE status WHEN 'FAILED' THEN 'timeout (bench)' ELSE '' END, '', created,
       CASE status WHEN 'SENT' THEN created + interval '40 seconds' END,
       CASE WHEN channel = 'BELL' AND status = 'SENT' AND h %% 3 = 0 THEN created + interval '1 day' END,
       CASE channel WHEN 'SMS' THEN CASE WHEN (h / 7) %% 4 = 0 THEN 'UCS-2' ELSE 'GSM-7' END ELSE '' END,
       CASE channel WHEN 'SMS' THEN 1 + (h / 13) %% 3 ELSE 0 END
FROM t
"""
# today's CMI orders: 95 % paid (with their card payment, as the callback records it), 5 % declined
CMI_ORDERS_SQL = """
WITH cu AS (SELECT min(id) AS lo, max(id) - min(id) + 1 AS span FROM rak_customer_customer),
o AS (
    SELECT g, 'BENCH' || to_char(%(today)s::date, 'YYYYMMDD') || lpad(g::text, 5, '0') AS oid, c.id AS customer_id,
           round((80 + abs(hashtext('amt' || g)) %% 900)::numeric, 2) AS amount, g %% 20 = 0 AS declined,
           %(today)s::timestamp + (g * 43200 / (%(n)s + 1)) * interval '1 second' AS created
    FROM generate_series(1, %(n)s) g CROSS JOIN cu
    JOIN rak_customer_customer c ON c.id = cu.lo + abs(hashtext('cmi' || g)) %% cu.span),
p AS (
    INSERT INTO rak_billing_payment (customer_id, amount, method, paid_at, reference, reason, created_at)
    SELECT customer_id, amount, 'CARD_CMI', created + interval '1 minute', oid, '', created + interval '1 minute'
    FROM o WHERE NOT declined
    RETURNING id, reference, paid_at)
INSERT INTO rak_payment_cmi_paymentorder (
    oid, customer_id, purpose, amount_bills, fee_amount, fee_vat, fee_vat_rate, amount_total, currency, email,
    bill_to_name, tel, lang, card_type, status, created_at, updated_at, proc_return_code, auth_code, masked_pan,
    cancel_reason, payment_id, paid_at)
SELECT o.oid, o.customer_id, 'BILLS', o.amount, 0, 0, 0.2, o.amount, '504', 'client' || o.customer_id || '@example.ma',
       '', '', 'fr', 'MOROCCAN', CASE WHEN o.declined THEN 'DECLINED' ELSE 'PAID' END, o.created,
       o.created + interval '1 minute', CASE WHEN o.declined THEN '05' ELSE '00' END,
       CASE WHEN o.declined THEN '' ELSE 'A' || o.g END, '4000********0002', '', p.id, p.paid_at
FROM o LEFT JOIN p ON p.reference = o.oid
"""

# (label, « already done » query, statement): each in its own transaction, skipped when done
EXTRA_STEPS = [
    ("payments over channels", "SELECT 1 FROM rak_billing_payment WHERE method <> 'CASH'", PAYMENT_CHANNELS_SQL),
    # done when the first month asked has its readings (a run with more months adds the older ones)
    (
        "meter readings",
        "SELECT 1 FROM rak_billing_meterreading WHERE reading_date < DATE '{readings_from}' + 40",
        READINGS_SQL,
    ),
    ("staff agents", "SELECT 1 FROM rak_base_user WHERE username LIKE 'bench-agent-%'", AGENTS_SQL),
    (
        "agents' groups",
        "SELECT 1 FROM rak_base_user_groups ug JOIN rak_base_user u ON u.id = ug.user_id "
        "WHERE u.username LIKE 'bench-agent-%'",
        AGENT_GROUPS_SQL,
    ),
    ("service requests", "SELECT 1 FROM rak_requests_servicerequest WHERE number LIKE 'BQ%'", REQUESTS_SQL),
    ("request events", "SELECT 1 FROM rak_requests_requestevent WHERE kind = 'PHASE'", REQUEST_EVENTS_SQL),
    ("complaints", "SELECT 1 FROM rak_requests_complaint WHERE number LIKE 'BR%'", COMPLAINTS_SQL),
    (
        "complaint entries",
        "SELECT 1 FROM rak_requests_complaintentry e JOIN rak_requests_complaint c ON c.id = e.complaint_id "
        "WHERE c.number LIKE 'BR%'",
        COMPLAINT_ENTRIES_SQL,
    ),
    ("portal users", "SELECT 1 FROM rak_base_user WHERE password = '!bench' AND role = 'CUSTOMER'", PORTAL_USERS_SQL),
    (
        "portal accounts",
        "SELECT 1 FROM rak_customer_portalaccount pa JOIN rak_base_user u ON u.id = pa.user_id "
        "WHERE u.password = '!bench'",
        PORTAL_ACCOUNTS_SQL,
    ),
    ("e-facture opt-ins", "SELECT 1 FROM rak_customer_customer WHERE e_invoice_since IS NOT NULL", E_INVOICE_SQL),
    ("active days", "SELECT 1 FROM rak_reports_activeday", ACTIVE_DAYS_SQL),
    ("page hits", "SELECT 1 FROM rak_reports_pagehit", PAGE_HITS_SQL),
    ("outbox messages", "SELECT 1 FROM rak_base_message WHERE body = 'Message (bench)'", MESSAGES_SQL),
    ("today's CMI orders", "SELECT 1 FROM rak_payment_cmi_paymentorder WHERE oid LIKE 'BENCH%'", CMI_ORDERS_SQL),
]


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def builder_steps_for_reports(url: str, months: int) -> None:
    """Resume an interrupted ``bench_pages`` build with only the steps the reports read: bills,
    payments (with their channel), allocations, settled bills. Bill lines and the ledger are read
    by no report: left to ``bench_pages.py --reuse``, which adds the missing steps."""
    today = date.today()  # noqa: DTZ011 - the bench's own calendar, as bench_pages
    last = add_months(today.replace(day=1), -1)
    first = add_months(last, -(months - 1))
    params = {
        "start": first,
        "end": last,
        "first": first.year * 12 + first.month,
        "last": last,
        "issue": add_months(today, -1).replace(day=20),
        "due": add_months(today, 0).replace(day=5),
    }
    steps = [
        ("bills", "SELECT 1 FROM rak_billing_bill WHERE kind = 'CONSUMPTION'", bench_pages.BILLS_SQL),
        ("other bills", "SELECT 1 FROM rak_billing_bill WHERE kind = 'CUT_FEE'", bench_pages.OTHER_SQL),
        ("payments", "SELECT 1 FROM rak_billing_payment", bench_pages.PAYMENTS_SQL),
        ("allocations", "SELECT 1 FROM rak_billing_paymentallocation", bench_pages.ALLOCATIONS_SQL),
        ("settled bills", "SELECT 1 FROM rak_billing_bill WHERE settled_at IS NOT NULL", bench_pages.SETTLED_SQL),
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
        for label, done, statement in steps:
            if conn.execute(f"SELECT EXISTS ({done})").fetchone()[0]:  # noqa: S608 - bench SQL
                continue
            started = time.perf_counter()
            rows = conn.execute(statement, params).rowcount
            print(f"  {label}: {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('rak_billing_payment', 'id'), max(id)) FROM rak_billing_payment"
        )


def extras_add(url: str, *, reading_months: int = 12) -> dict[str, tuple[int, float]]:
    today = date.today()  # noqa: DTZ011 - the bench's own calendar, as bench_pages
    this_month = today.replace(day=1)
    start = add_months(this_month, -12)  # the builder's first billed month
    now = datetime.now(UTC)
    span = int((now - datetime(start.year, start.month, 1, tzinfo=UTC)).total_seconds()) - 3600
    months = (today.year * 12 + today.month) - (start.year * 12 + start.month) + 1
    common = {
        "start": start,
        "this_month": this_month,
        "last": add_months(this_month, -1),
        "today": today,
        "yesterday": today - timedelta(days=1),
        "now": now,
        "recent": now - timedelta(days=45),
        "span": span,
        "agents": AGENTS,
        "readings_from": add_months(this_month, -reading_months),
    }
    sizes = {
        "service requests": REQUESTS,
        "complaints": COMPLAINTS,
        "outbox messages": MESSAGES_PER_MONTH * months,
        "today's CMI orders": CMI_ORDERS_TODAY,
    }
    timings = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for label, done, statement in EXTRA_STEPS:
            done = done.format(readings_from=common["readings_from"].isoformat())
            if conn.execute(f"SELECT EXISTS ({done})").fetchone()[0]:  # noqa: S608 - bench SQL
                continue
            started = time.perf_counter()
            rows = conn.execute(statement, {**common, "n": sizes.get(label, 0)}).rowcount
            timings[label] = (rows, time.perf_counter() - started)
            print(f"  {label}: {rows:,} rows in {timings[label][1]:.0f} s", flush=True)
        if timings:
            started = time.perf_counter()
            conn.execute("ANALYZE")  # statistics for the views' plans (a VACUUM of 6.6 M bills: minutes)
            print(f"  ANALYZE: {time.perf_counter() - started:.0f} s", flush=True)
    return timings


# --- 3. the materialised views -------------------------------------------------------------------------


def django_setup(env: dict[str, str]) -> None:
    os.environ.update({k: v for k, v in env.items() if k.startswith("RAK_") or k == "DATABASE_URL"})
    os.environ["RAK_SERVER_ALLOWED_HOSTS"] = env["RAK_SERVER_ALLOWED_HOSTS"] + ",testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def views_refresh(names: str) -> list[dict]:
    """Refresh each registered view (as the scheduler's job does, CONCURRENTLY): time, rows, size."""
    from django.db import connection

    from rak_base import clock
    from rak_reports.matviews import matview_refresh, matviews_registered, matviews_sync

    started = time.perf_counter()
    built = matviews_sync(now=clock.now())
    if built:
        print(f"  built {', '.join(built)} in {time.perf_counter() - started:.1f} s", flush=True)
    out = []
    for name, view in sorted(matviews_registered().items()):
        if names and not any(n in name for n in names.split(",")):
            continue
        started = time.perf_counter()
        rows = matview_refresh(name, now=clock.now())
        seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size(%s)", [view.table])
            size = cursor.fetchone()[0]
        out.append({"view": name, "seconds": seconds, "rows": rows, "size": size})
        print(f"  {name:<40} {seconds:>8.2f} s {rows:>10,} rows {size / 1024 / 1024:>8.1f} MiB", flush=True)
    return out


# --- 4. the pages ----------------------------------------------------------------------------------------


def direction_session() -> tuple[dict[str, str], object]:
    """A staff member of the « direction » group and a logged-in back-office session cookie."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.sessions.backends.db import SessionStore

    from rak_base.middleware import SESSION_STARTED_KEY

    User = get_user_model()
    user, _ = User.objects.get_or_create(
        username="bench-direction",
        defaults={"role": User.Role.STAFF, "is_staff": True, "first_name": "Direction", "last_name": "Bench"},
    )
    user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name="direction"))
    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[SESSION_STARTED_KEY] = time.time()
    store.set_expiry(6 * 3600)
    store.create()
    return {settings.SESSION_COOKIE_NAME: store.session_key}, user


def addresses(only: str) -> list[tuple[str, str]]:
    """(name, path?query) of every page measured, for the reports registered now."""
    from urllib.parse import urlencode

    from rak_customer.models import Agency
    from rak_reports.forms import district_choices
    from rak_reports.reports import reports_registered

    today = date.today()  # noqa: DTZ011 - the bench's own calendar
    this_month = today.replace(day=1)
    districts = [d for d, _ in district_choices() if d]
    agency = Agency.objects.order_by("pk").values_list("pk", flat=True).first()
    full = {
        "du": f"{add_months(this_month, -3):%Y-%m}",
        "au": f"{add_months(this_month, -1):%Y-%m}",
        "quartier": districts[len(districts) // 2] if districts else "",
        "agence": agency or "",
        "metier": "EAU",
        "type_client": "PARTICULIER",
    }
    names = {
        "period": ("du", "au"),
        "district": ("quartier",),
        "agency": ("agence",),
        "service": ("metier",),
        "customer_kind": ("type_client",),
    }

    def query(allowed) -> str:
        keys = [k for f in allowed for k in names.get(f, ())]
        return urlencode({k: full[k] for k in keys if full[k] != ""})

    out = []
    if not only or "dashboard" in only:
        out += [
            ("dashboard", "/backoffice/rapports/"),
            ("dashboard, filtered", f"/backoffice/rapports/?{query(names)}"),
        ]
    for report in reports_registered():
        if only and not any(o in report.slug for o in only.split(",")):
            continue
        base = f"/backoffice/rapports/{report.slug}/"
        out += [
            (f"{report.slug}", base),
            (f"{report.slug}, filtered", f"{base}?{query(report.filters)}"),
            (f"{report.slug} xlsx", f"{base}xlsx/"),
            (f"{report.slug} pdf", f"{base}pdf/"),
        ]
    return out


def query_counts(pages: list[tuple[str, str]], user) -> dict[str, tuple[int, int, float]]:
    """In-process (Django's test Client): queries, response bytes and time of one request each."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    out = {}
    for name, path in pages:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(path)
            seconds = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{name}: {response.status_code} {path}")
        out[name] = (len(captured.captured_queries), len(response.content), seconds)
    return out


def get(port: int, path: str, cookie: str) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", path, headers={"Cookie": cookie})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, len(body)


def server_times(log: Path, offset: int) -> tuple[list[tuple[str, float]], int]:
    with log.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    out = []
    for line in data.decode().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] == "200":
            out.append((parts[0], int(parts[2]) / 1000))
    return out, offset + len(data)


def measure(pages, cookies: dict[str, str], env: dict[str, str], repeat: int) -> dict[str, dict]:
    """Each address ``repeat`` times after one cold request, one at a time, through gunicorn."""
    log = Path(f"/tmp/bench_reports_{os.getpid()}.log")  # noqa: S108 - a scratch file of this run
    log.write_text("")
    options = SimpleNamespace(workers=1)
    process, base = bench_pages.start_gunicorn(options, env, log)
    port = int(base.rsplit(":", 1)[1])
    cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
    results = {}
    try:
        get(port, "/backoffice/rapports/", cookie)  # the worker's imports, the first connection
        time.sleep(0.3)
        _, offset = server_times(log, 0)
        for name, path in pages:
            times = []
            for _ in range(repeat + 1):
                status, size = get(port, path, cookie)
                if status != 200:
                    raise SystemExit(f"{name}: {status} {path}")
                time.sleep(0.05)
                found, offset = server_times(log, offset)
                while not found:
                    time.sleep(0.1)
                    found, offset = server_times(log, offset)
                times.append(found[-1][1])
            warm = times[1:]
            results[name] = {
                "path": path,
                "cold": times[0],
                "p50": statistics.median(warm),
                "p95": bench_pages.percentile(warm, 95),
                "max": max(warm),
                "size": size,
            }
            r = results[name]
            print(
                f"  {name:<34} cold {r['cold']:>7.0f}  p50 {r['p50']:>7.0f}  p95 {r['p95']:>7.0f}"
                f"  max {r['max']:>7.0f} ms  {size / 1024:>7.0f} KiB",
                flush=True,
            )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.unlink(missing_ok=True)
    return results


# --- main ---------------------------------------------------------------------------------------------------


def counts(url: str) -> dict[str, int]:
    tables = {
        "customers": "rak_customer_customer",
        "bills": "rak_billing_bill",
        "payments": "rak_billing_payment",
        "readings": "rak_billing_meterreading",
        "requests": "rak_requests_servicerequest",
        "complaints": "rak_requests_complaint",
        "messages": "rak_base_message",
        "accounts": "rak_customer_portalaccount",
    }
    with psycopg.connect(url) as conn:
        # the planner's estimate: exact counts of the big tables would cost a minute each
        return {
            k: int(conn.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [t]).fetchone()[0])
            for k, t in tables.items()
        }


def record(lines: list[str], view_lines: list[str]) -> None:
    text = BENCHMARKS.read_text(encoding="utf-8")
    for marker, rows in ((MARKER, lines), (MARKER_VIEWS, view_lines)):
        if marker not in text:
            raise SystemExit(f"{marker!r} absent de {BENCHMARKS}")
        if rows:
            text = text.replace(marker, "\n".join(rows) + f"\n{marker}")
    BENCHMARKS.write_text(text, encoding="utf-8")
    print(f"recorded in {BENCHMARKS.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=os.environ.get("BENCH_PG_SERVER", "postgres://postgres@127.0.0.1:5432"))
    parser.add_argument("--db", default="rak_bench_pages")
    parser.add_argument("--customers", type=int, default=200_000, help="when the database is built")
    parser.add_argument("--months", type=int, default=12, help="when the database is built")
    parser.add_argument("--reuse", action="store_true", help="the database is built: no migrate, no additions")
    parser.add_argument("--reading-months", type=int, default=12, help="months of meter readings added")
    parser.add_argument("--no-refresh", action="store_true", help="measure on the views as they are")
    parser.add_argument("--views", default="", help="refresh only the views whose name contains one of these")
    parser.add_argument("--reports", default="", help="only the reports whose slug contains one of these (a,b)")
    parser.add_argument("--repeat", type=int, default=5, help="warm requests per address (after a cold one)")
    parser.add_argument("--record", action="store_true", help=f"insert the Markdown rows in {BENCHMARKS.name}")
    options = parser.parse_args()

    server = options.server.rstrip("/")
    url = f"{server}/{options.db}"
    env = environment(url)
    started = time.perf_counter()
    if not options.reuse:
        populated = False
        try:
            with psycopg.connect(url) as conn:
                populated = conn.execute("SELECT EXISTS (SELECT 1 FROM rak_customer_customer)").fetchone()[0]
        except psycopg.Error:
            pass
        build_options = SimpleNamespace(db=options.db, customers=options.customers, months=options.months)
        print("build…", flush=True)
        # the builder's payments carry their channel at once (no 3.4 M-row UPDATE afterwards)
        bench_pages.PAYMENTS_SQL = PAYMENTS_BY_CHANNEL_SQL
        if populated:  # resume: only what the reports read; migrate once at the end
            builder_steps_for_reports(url, options.months)
        else:
            bench_pages.build(build_options, server, url, env, fresh=True)
        print(f"  {time.perf_counter() - started:.0f} s", flush=True)
        print("additions…", flush=True)
        extras_add(url, reading_months=options.reading_months)
        print("migrate (pending migrations; builds the reports' views missing or changed)…", flush=True)
        seconds = bench_pages.run([sys.executable, str(ROOT / "manage.py"), "migrate", "--verbosity", "0"], env)
        print(f"  {seconds:.0f} s", flush=True)
    data = counts(url)
    print(", ".join(f"{k} {v:,}" for k, v in data.items()), flush=True)

    django_setup(env)
    views = []
    host = machine()  # the load before the refresh
    if not options.no_refresh:
        print("refresh of the materialised views…", flush=True)
        views = views_refresh(options.views)
    host_views, host = host, machine()  # the load before the pages
    cookies, user = direction_session()
    pages = addresses(options.reports)
    print("query counts (in-process)…", flush=True)
    queries = query_counts(pages, user)
    print(f"pages through gunicorn (1 sync worker), {options.repeat} warm requests each…", flush=True)
    results = measure(pages, cookies, env, options.repeat)

    with psycopg.connect(url) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
    today = datetime.now(UTC).date().isoformat()
    described = f"{data['customers']:,} customers, {data['bills'] / 1e6:.1f} M bills"
    print(f"\n{'address':<34} {'cold':>7} {'p50':>7} {'p95':>7} {'max':>7} {'queries':>8} {'KiB':>7}")
    lines = []
    for name, r in results.items():
        n, size, _ = queries[name]
        print(
            f"{name:<34} {r['cold']:>7.0f} {r['p50']:>7.0f} {r['p95']:>7.0f} {r['max']:>7.0f} {n:>8} "
            f"{size / 1024:>7.0f}"
        )
        lines.append(
            f"| {today} | {described} | {name} | {r['cold']:.0f} | {r['p50']:.0f} | **{r['p95']:.0f}** "
            f"| {r['max']:.0f} | {n} | {size / 1024:.0f} | PostgreSQL {pg_version}, gunicorn 1 sync worker | {host} |"
        )
    view_lines = [
        f"| {today} | {described} | {v['view']} | **{v['seconds']:.1f}** | {v['rows']:,} "
        f"| {v['size'] / 1024 / 1024:.1f} | PostgreSQL {pg_version} | {host_views} |"
        for v in views
    ]
    print("\n" + "\n".join(lines + view_lines))
    slow = [name for name, r in results.items() if r["p95"] > 1000]
    print(f"\naddresses over 1 s (p95): {', '.join(slow) if slow else 'none'}")
    if options.record:
        record(lines, view_lines)


if __name__ == "__main__":
    main()
