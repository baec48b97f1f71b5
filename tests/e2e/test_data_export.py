"""My data's "Download my data", in a browser on a desktop and a phone: ask, wait for the job,
download the ZIP."""

from __future__ import annotations

import zipfile

from playwright.sync_api import expect

from core.testing import run_job, screenshot


def test_a_member_asks_for_their_data_and_downloads_it(open_page, live_server, app, create_user):
    member = create_user(display_name="Maya Ruiz", bio="Gardener and coder.")
    page = open_page(member)
    page.goto(live_server + "/me/data")

    page.get_by_role("button", name="Download my data").click()

    expect(page.get_by_text("We are gathering your data.")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Your copy is being prepared")
    run_job(app, "core.build_data_exports")
    page.reload()
    download_link = page.get_by_role("link", name="Download your copy")
    expect(download_link).to_be_visible()
    screenshot(page, "my-data-export", "#export")

    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename == "my-data.zip"
    with zipfile.ZipFile(download.value.path()) as archive:
        assert {"README.txt", "core.json"} <= set(archive.namelist())
        assert b"Gardener and coder." in archive.read("core.json")
