"""What members and visitors see: the Mentoring area of the profile, the download, and the
public verification page."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.testing import stored
from plugins.certificates.models import Certificate

from .conftest import pdf_text


def mentoring_area(client, member) -> str:
    response = client.get(f"/members/{member.id}/mentoring")
    assert response.status_code == 200
    return response.text


def test_the_holder_sees_the_certificate_being_prepared_then_downloads_it(
    client, pair, issued, run_render_job
):
    _, bob = pair
    number = issued["Bob Smith"]
    client.login(bob)

    page = mentoring_area(client, bob)
    assert "Certificates" in page and "Finished the probe course" in page
    assert "being prepared: refresh in a moment" in page
    assert f"/certificates/{number}.pdf" not in page
    early = client.get(f"/certificates/{number}.pdf", follow_redirects=True)
    assert "being prepared" in early.text  # a link followed too early explains itself

    run_render_job()

    page = mentoring_area(client, bob)
    assert "being prepared" not in page
    assert f"/certificates/{number}.pdf" in page and "Download PDF" in page
    download = client.get(f"/certificates/{number}.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="certificate-{number}.pdf"'
    )
    assert "Bob Smith" in pdf_text(download.data)


def test_only_the_holder_can_download(client, create_user, pair, issued, run_render_job):
    ada, _ = pair
    run_render_job()
    bobs = f"/certificates/{issued['Bob Smith']}.pdf"

    visitor = client.get(bobs)
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]

    client.login(ada)  # the other party of the same goal
    assert client.get(bobs).status_code == 404
    client.login(create_user())
    assert client.get(bobs).status_code == 404
    assert client.get("/certificates/ALMA-2222-3333-4444.pdf").status_code == 404


def test_certificates_are_private_on_the_profile_until_the_holder_shows_them(
    client, create_user, pair, issued, run_render_job
):
    _, bob = pair
    number = issued["Bob Smith"]
    run_render_job()
    other = create_user()
    client.login(other)
    assert "Finished the probe course" not in mentoring_area(client, bob)

    client.login(bob)
    saved = client.post(
        f"/certificates/{number}/visibility",
        data={"shown_on_profile": "y", "name_on_verification": "y"},
        follow_redirects=True,
    )
    assert f"Your choice for certificate {number} is saved." in saved.text

    client.login(other)
    page = mentoring_area(client, bob)
    assert "Finished the probe course" in page
    assert f"/certificates/verify/{number}" in page
    assert f"{number}.pdf" not in page  # others verify; only the holder downloads


def test_nobody_but_the_holder_chooses_what_is_shown(client, app, pair, issued):
    ada, _ = pair
    client.login(ada)

    response = client.post(
        f"/certificates/{issued['Bob Smith']}/visibility", data={"shown_on_profile": "y"}
    )

    assert response.status_code == 404
    assert not stored(
        app, select(Certificate.shown_on_profile).where(Certificate.holder_name == "Bob Smith")
    )


def test_a_visitor_verifies_a_genuine_certificate(client, issued):
    page = client.get(f"/certificates/verify/{issued['Bob Smith']}")

    assert page.status_code == 200
    assert "Genuine certificate" in page.text
    assert "Bob Smith" in page.text and "Finished the probe course" in page.text
    assert issued["Bob Smith"] in page.text
    assert "Ada Lovelace" not in page.text  # the other party is not the holder's to publish


def test_the_number_is_found_however_it_is_typed(client, issued):
    number = issued["Bob Smith"]

    typed = client.get(f"/certificates/verify?number=+{number.lower()}+", follow_redirects=True)
    spaced = number.replace("-", " - ", 1)
    read_aloud = client.get("/certificates/verify", query_string={"number": spaced})

    assert "Genuine certificate" in typed.text and "Bob Smith" in typed.text
    assert read_aloud.location == f"/certificates/verify/{number}"


def test_a_number_made_of_anything_else_is_simply_not_found(client, issued):
    for typed, kept in [("../../admin", "ADMIN"), ("ALMA/1234", "ALMA1234"), ("/..", "-")]:
        response = client.get("/certificates/verify", query_string={"number": typed})
        # only what a number is made of reaches the address of the page
        assert response.location == f"/certificates/verify/{kept}"
        assert client.get(response.location).status_code == 404


def test_the_holder_may_hide_their_name_from_the_verification_page(client, pair, issued):
    _, bob = pair
    number = issued["Bob Smith"]
    client.login(bob)
    client.post(f"/certificates/{number}/visibility", data={})  # both boxes unticked
    client.logout()

    page = client.get(f"/certificates/verify/{number}")

    assert "Genuine certificate" in page.text
    assert "Bob Smith" not in page.text
    assert "chose not to show their name" in page.text


def test_an_unknown_number_is_no_such_certificate(client, issued):
    page = client.get("/certificates/verify/ALMA-2222-3333-4444")

    assert page.status_code == 404
    assert "No such certificate" in page.text
    assert "Bob Smith" not in page.text


def test_a_revoked_certificate_says_so_and_its_pdf_is_no_longer_offered(
    client, create_user, pair, issued, run_render_job, operator
):
    _, bob = pair
    number = issued["Bob Smith"]
    run_render_job()

    result = operator("revoke", number, "--reason", "Issued by mistake")

    assert result.exit_code == 0 and "is revoked" in result.output
    page = client.get(f"/certificates/verify/{number}")
    assert page.status_code == 200
    assert "This certificate was revoked" in page.text
    assert "Genuine certificate" not in page.text
    assert re.search(r"revoked it on \w+ \d+, \d{4}", page.text)
    assert "Issued by mistake" not in page.text  # the reason is for the holder

    client.login(bob)
    area = mentoring_area(client, bob)
    assert "Revoked on" in area and "Issued by mistake" in area
    refused = client.get(f"/certificates/{number}.pdf", follow_redirects=True)
    assert refused.mimetype == "text/html"  # the PDF is no longer offered
    assert "was revoked: its PDF is no longer offered" in refused.text
    assert f'href="/certificates/{number}.pdf"' not in area
    assert "was revoked: Issued by mistake" in client.get("/alerts/").text

    assert "revoked already" in operator("revoke", number, "--reason", "again").output
    assert operator("revoke", issued["Ada Lovelace"], "--reason", " ").exit_code == 1


def test_a_revoked_certificate_leaves_the_profile_others_see(
    client, create_user, pair, issued, operator
):
    _, bob = pair
    number = issued["Bob Smith"]
    client.login(bob)
    client.post(f"/certificates/{number}/visibility", data={"shown_on_profile": "y"})
    operator("revoke", number, "--reason", "Fraud")

    client.login(create_user())

    assert "Finished the probe course" not in mentoring_area(client, bob)


def test_a_member_without_certificates_is_told_how_to_get_one(client, create_user):
    member = create_user()
    client.login(member)

    assert "No certificates yet" in mentoring_area(client, member)
