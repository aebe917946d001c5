"""An admin adds an OpenAI-compatible provider on the AI settings page and tests its connection in the browser.

The live server (daphne, another process) reaches the fake OpenAI server this test runs on 127.0.0.1, so the
connection test is a real HTTP exchange in OpenAI's wire format, with the key typed into the form.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from ai.models import ProviderConfig
from core.testing.browser import new_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("live")]


def test_admin_adds_an_openai_provider_and_sees_it_connected(live_stack, live_data, browser, openai_fake):
    admin = live_data.create_user("admin", name="Ada Admin")
    label = f"Fake OpenAI {uuid.uuid4().hex[:6]}"
    live_data.add_cleanup(lambda: ProviderConfig.objects.filter(label=label).delete())

    page = new_page(browser)
    sign_in(page, live_stack, admin, next_path="/settings/ai/")
    page.click("[data-testid=provider-new]")
    modal = page.locator("#modal")
    expect(modal.locator("[name=api_key]")).to_have_attribute("type", "password")
    modal.locator("[name=provider]").select_option("openai")
    modal.locator("[name=label]").fill(label)
    modal.locator("[name=model]").fill("gpt-4o-mini")
    modal.locator("[name=api_key]").fill(openai_fake.api_key)
    modal.locator("[name=base_url]").fill(openai_fake.base_url)
    modal.locator("[data-testid=provider-save]").click()

    expect(modal).to_be_hidden()
    row = page.locator("[data-testid=provider-row]").filter(has_text=label)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Not tested")
    expect(page.locator("#toasts")).to_contain_text(f"Added {label}")
    assert openai_fake.api_key not in page.content()

    row.locator("[data-testid=provider-test]").click()

    result = (
        page.locator("[data-testid=provider-row]").filter(has_text=label).locator("[data-testid=provider-test-result]")
    )
    expect(result).to_contain_text("Connected")
    expect(result).to_contain_text("model 'gpt-4o-mini' is available")
    assert openai_fake.requests_to("/models"), "the connection test never reached the fake server"
