import re

from core.testing import body_of


def test_register_confirm_login(client, mail, db):
    response = client.post(
        "/register",
        data={"display_name": "Ada", "email": "Ada@Example.org", "password": "a long password"},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert b"Check your inbox" in response.data
    [message] = mail.deliver()
    assert message["To"] == "ada@example.org"
    link = re.search(r"http://alma\.test(\S+)", body_of(message)).group(1)
    response = client.get(link, follow_redirects=True)
    assert b"confirmed" in response.data
    response = client.get("/me", follow_redirects=True)
    assert b"Ada" in response.data
