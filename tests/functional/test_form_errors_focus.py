"""A form sent back with errors, in a real browser (issue 9 §2): the page starts with « Le
formulaire contient des erreurs », the focus is on that summary (a screen reader reads it first),
its links lead to the fields, and each field is described by its own error."""

from __future__ import annotations

from playwright.sync_api import expect


def test_focus_moves_to_the_error_summary_and_its_links_reach_the_fields(page):
    page.goto("/creer-mon-compte/")
    page.get_by_role("button", name="Continuer").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_contain_text("Le formulaire contient des erreurs")
    expect(summary).to_be_focused()
    summary.get_by_role("link", name="N° de téléphone (mobile)").click()
    expect(page.locator("#id_phone")).to_be_focused()
    description = page.evaluate(
        "() => document.getElementById('id_phone').getAttribute('aria-describedby').split(' ')"
        ".map((id) => document.getElementById(id).textContent.trim()).join(' ')"
    )
    assert description == "Ce champ est obligatoire." or "obligatoire" in description, description
