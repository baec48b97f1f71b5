"""Certificates in the HTTP API: the holder's list and PDF, and the public verification, as
the pages give them."""

from __future__ import annotations

from core.testing import assert_api_routes_refuse_visitors, token_headers

from .conftest import pdf_text


def test_the_holder_lists_their_certificates_and_downloads_the_pdf(
    client, db, pair, issued, run_render_job
):
    _, bob = pair
    number = issued["Bob Smith"]
    headers = token_headers(bob, "read")

    listed = client.get("/api/v1/certificates", headers=headers).json
    assert [item["number"] for item in listed["items"]] == [number]
    assert listed["items"][0]["ready"] is False and listed["next"] is None
    early = client.get(f"/api/v1/certificates/{number}/pdf", headers=headers)
    assert early.status_code == 409 and "being prepared" in early.json["detail"]

    run_render_job()

    download = client.get(f"/api/v1/certificates/{number}/pdf", headers=headers)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert "Bob Smith" in pdf_text(download.data)
    assert client.get("/api/v1/certificates", headers=headers).json["items"][0]["ready"]


def test_nobody_else_sees_or_downloads_a_certificate(
    client, db, create_user, pair, issued, run_render_job
):
    ada, _ = pair
    run_render_job()
    bobs = f"/api/v1/certificates/{issued['Bob Smith']}/pdf"
    assert client.get(bobs).status_code == 401
    other = token_headers(ada)  # the other party of the same goal
    assert client.get(bobs, headers=other).json["type"] == "/api/problems/not-found"
    mine = client.get("/api/v1/certificates", headers=other).json["items"]
    assert [item["number"] for item in mine] == [issued["Ada Lovelace"]]


def test_anyone_verifies_a_certificate_as_the_public_page_shows_it(client, db, pair, issued):
    _, bob = pair
    number = issued["Bob Smith"]

    genuine = client.get(f"/api/v1/certificates/{number.lower()}/verify").json
    assert genuine["valid"] is True and genuine["holder_name"] == "Bob Smith"
    assert genuine["number"] == number and genuine["achievement"] == "Finished the probe course"

    client.login(bob)
    client.post(f"/certificates/{number}/visibility", data={})  # the name hidden
    client.logout()
    hidden = client.get(f"/api/v1/certificates/{number}/verify").json
    assert hidden["holder_name"] is None and "Bob" not in str(hidden)

    unknown = client.get("/api/v1/certificates/ALMA-2222-3333-4444/verify")
    assert unknown.status_code == 404


def test_a_revoked_certificate_is_said_so_and_its_pdf_refused(
    client, db, pair, issued, run_render_job, operator
):
    _, bob = pair
    number = issued["Bob Smith"]
    run_render_job()
    operator("revoke", number, "--reason", "Issued by mistake")

    verified = client.get(f"/api/v1/certificates/{number}/verify").json
    assert verified["valid"] is False and verified["revoked_at"] is not None
    assert verified["replaced"] is False and "mistake" not in str(verified)
    refused = client.get(f"/api/v1/certificates/{number}/pdf", headers=token_headers(bob))
    assert refused.status_code == 409 and "was revoked" in refused.json["detail"]


def test_the_holder_chooses_who_sees_a_certificate_as_on_the_page(
    client, db, create_user, pair, issued
):
    _, bob = pair
    number = issued["Bob Smith"]
    url = f"/api/v1/certificates/{number.lower()}"
    shown = client.patch(url, json={"shown_on_profile": True}, headers=token_headers(bob))
    assert shown.status_code == 200 and shown.json["number"] == number
    assert (shown.json["shown_on_profile"], shown.json["name_on_verification"]) == (True, True)
    client.login(create_user())
    assert "Finished the probe course" in client.get(f"/members/{bob.id}/mentoring").text

    nameless = client.patch(url, json={"name_on_verification": False}, headers=token_headers(bob))
    assert (nameless.json["shown_on_profile"], nameless.json["name_on_verification"]) == (
        True,
        False,
    )
    assert client.get(f"{url}/verify").json["holder_name"] is None
    same = client.patch(url, json={}, headers=token_headers(bob))
    assert same.status_code == 200 and same.json == nameless.json
    bad = client.patch(url, json={"shown_on_profile": None}, headers=token_headers(bob))
    assert bad.status_code == 422 and "shown_on_profile" in bad.json["errors"]["json"]


def test_nobody_else_chooses_and_a_read_only_token_cannot(client, db, pair, issued):
    ada, bob = pair
    url = f"/api/v1/certificates/{issued['Bob Smith']}"
    hide = {"name_on_verification": False}
    other = client.patch(url, json=hide, headers=token_headers(ada))
    assert other.status_code == 404 and other.json["type"] == "/api/problems/not-found"
    read_only = client.patch(url, json=hide, headers=token_headers(bob, "read"))
    assert read_only.status_code == 403
    unknown = client.patch(
        "/api/v1/certificates/ALMA-2222-3333-4444", json=hide, headers=token_headers(bob)
    )
    assert unknown.status_code == 404
    assert client.get(f"{url}/verify").json["holder_name"] == "Bob Smith"


def test_every_certificates_route_refuses_visitors_and_read_only_writes(app, client, db, pair):
    assert_api_routes_refuse_visitors(app, client, token_headers(pair[0], "read"))
    document = client.get("/api/v1/openapi.json").json
    pdf = document["paths"]["/api/v1/certificates/{number}/pdf"]["get"]["responses"]["200"]
    assert list(pdf["content"]) == ["application/pdf"]
