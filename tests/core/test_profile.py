"""A member's profile: My data (fields and photo), what other members see, the
plugin areas with their sections, and goals consented to from the Overview."""

from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from PIL import Image
from sqlalchemy import func, select

from core import hookimpl
from core.contributions import GoalKind, ProfileArea, ProfileSection
from core.models import Goal, GoalParty, Topic, User, UserTopic
from core.services.goals import propose_goal
from core.services.profiles import language_codes_of, topic_names_of, update_profile

# ---- helpers -------------------------------------------------------------------------------


class FormState(HTMLParser):
    """The values a browser would submit from a page's form fields, by field name."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.values: dict[str, object] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "input" and name and name != "csrf_token":
            if attributes.get("type") == "checkbox":
                self.values[name] = "checked" in attributes
            elif attributes.get("type") != "file":
                self.values[name] = attributes.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.values[name] = []
        elif tag == "option" and self._select and "selected" in attributes:
            self.values[self._select].append(attributes["value"])
        elif tag == "textarea" and name:
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


def form_of(page: str) -> dict[str, object]:
    values = FormState(page).values
    if "bio" in values:
        values["bio"] = values["bio"].strip()
    return values


def profile_form(**changes: object) -> dict[str, object]:
    """What the My data form submits; ``None`` leaves a field out (an unticked box)."""
    data: dict[str, object] = {
        "display_name": "Ada Lovelace",
        "bio": "",
        "expertise": "",
        "interests": "",
        "timezone": "UTC",
        "locale": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def save_profile(client, **changes: object):
    return client.post(
        "/me/data",
        data=profile_form(**changes),
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (400, 200), **save_args) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save_args)
    return buffer.getvalue()


def upload(client, content: bytes, filename: str, **changes: object):
    return save_profile(client, photo=(io.BytesIO(content), filename), **changes)


def photo_folder(app) -> Path:
    return Path(app.instance_path) / "uploads" / "photos"


def reread(db) -> None:
    """End the test's own transaction, so it sees what the requests committed."""
    db.session.commit()


def flashed(page: str) -> list[str]:
    return [
        " ".join(re.sub(r"<[^>]+>", " ", text).split())
        for text in re.findall(
            r'<div class="alert alert-[^"]*" role="alert">(.*?)</div>', page, re.S
        )
    ]


def section(page: str, heading: str) -> str:
    """The HTML of the card under ``heading`` (up to the next card)."""
    start = page.index(f">{heading}<")
    end = page.find('<section class="card', start)
    return page[start : end if end != -1 else len(page)]


def profile_tabs(page: str) -> str:
    start = page.index("profile-tabs")
    return page[start : page.index("</ul>", start)]


# ---- My data: the fields -------------------------------------------------------------------


def test_my_data_shows_my_current_values(client, create_user):
    member = create_user(display_name="Ada", bio="Counting engines.", timezone="Europe/Paris")
    client.login(member)

    page = client.get("/me/data")

    assert page.status_code == 200
    values = form_of(page.text)
    assert values["display_name"] == "Ada"
    assert values["bio"] == "Counting engines."
    assert values["timezone"] == ["Europe/Paris"]


def test_saving_my_data_stores_and_shows_every_field(client, db, create_user):
    member = create_user(display_name="Ada")
    client.login(member)

    page = save_profile(
        client,
        display_name="  Ada Lovelace ",
        bio="I write programs for engines.",
        expertise="Python, data   science, python , Data Science",
        interests="Poetry, Python",
        languages=["fr", "de"],
        timezone="Pacific/Auckland",
    )

    assert page.status_code == 200
    assert "Your data is saved." in flashed(page.text)
    values = form_of(page.text)
    assert values["display_name"] == "Ada Lovelace"
    assert values["bio"] == "I write programs for engines."
    assert values["expertise"] == "Python, data science"
    assert values["interests"] == "Poetry, Python"
    assert sorted(values["languages"]) == ["de", "fr"]
    assert values["timezone"] == ["Pacific/Auckland"]

    reread(db)
    member = db.session.get(User, member.id)
    assert member.display_name == "Ada Lovelace"
    assert member.topic_names("expertise") == ["Python", "data science"]
    assert member.topic_names("interest") == ["Poetry", "Python"]
    assert member.language_codes == ["de", "fr"]
    assert member.timezone == "Pacific/Auckland"
    # "Python" as expertise and as interest is one shared topic
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 3


def test_saving_again_replaces_topics(client, db, create_user):
    member = create_user()
    client.login(member)
    save_profile(client, expertise="Python, Rust", interests="Go")

    page = save_profile(client, expertise="Rust, Python, SQL", interests="")

    assert "Your data is saved." in flashed(page.text)
    values = form_of(page.text)
    assert values["expertise"] == "Rust, Python, SQL"
    assert values["interests"] == ""
    reread(db)
    member = db.session.get(User, member.id)
    assert member.topic_names("expertise") == ["Rust", "Python", "SQL"]
    assert member.topic_names("interest") == []


def test_topics_are_shared_between_members_whatever_their_case(app, db, create_user):
    first, second = create_user(), create_user()
    for member, topics in (
        (first, "Machine Learning, Python"),
        (second, "python, MACHINE learning"),
    ):
        client = app.test_client()
        client.login(member)
        assert "Your data is saved." in flashed(save_profile(client, expertise=topics).text)

    reread(db)
    assert sorted(db.session.scalars(select(Topic.name))) == ["Machine Learning", "Python"]
    second = db.session.get(User, second.id)
    assert second.topic_names("expertise") == ["Python", "Machine Learning"]
    users_per_topic = db.session.execute(
        select(UserTopic.topic_id, func.count()).group_by(UserTopic.topic_id)
    ).all()
    assert sorted(count for _, count in users_per_topic) == [2, 2]


def test_topics_and_languages_of_a_page_of_members_in_one_read_each(db, create_user):
    ada, grace, quiet = create_user(), create_user(), create_user()
    for member, expertise, interests, languages in (
        (ada, ["Python"], [], []),  # kept below, behind a topic put before it
        (ada, ["Rust", "Python"], ["Go"], ["fr", "en"]),
        (grace, ["COBOL"], [], []),
    ):
        update_profile(
            member,
            display_name=member.display_name,
            bio="",
            timezone="UTC",
            locale=None,
            expertise=expertise,
            interests=interests,
            languages=languages,
        )
    db.session.commit()
    members = [ada.id, grace.id, quiet.id]

    assert topic_names_of(members, "expertise") == {ada.id: ["Rust", "Python"], grace.id: ["COBOL"]}
    assert topic_names_of(members, "interest") == {ada.id: ["Go"]}
    assert language_codes_of(members) == {ada.id: ["en", "fr"]}
    assert topic_names_of([grace.id], "expertise") == {grace.id: ["COBOL"]}
    assert language_codes_of([]) == {}


INVALID_DATA = [
    ({"expertise": ", ".join(f"topic {n}" for n in range(13))}, "Name at most 12 topics."),
    ({"interests": "x" * 61}, "A topic may have at most 60 characters."),
    # 60 characters whose lower case ("i̇" each) would not fit the shared topic's key
    ({"interests": "İ" * 60}, "A topic may have at most 60 characters."),
    ({"timezone": "Mars/Olympus_Mons"}, "Not a valid choice."),
    ({"languages": ["xx"]}, "not a valid choice"),
    ({"locale": "fr"}, "Not a valid choice."),  # not one of LANGUAGES
    ({"display_name": "   "}, "This field is required."),
    ({"display_name": "A" * 81}, "Field cannot be longer than 80 characters."),
    ({"bio": "b" * 2001}, "Field cannot be longer than 2000 characters."),
]


def test_invalid_data_is_refused_with_a_message_and_changes_nothing(client, db, create_user):
    member = create_user(display_name="Ada", timezone="Europe/Paris")
    client.login(member)
    save_profile(client, display_name="Ada", expertise="Python", timezone="Europe/Paris")

    for changes, message in INVALID_DATA:
        page = save_profile(client, **({"display_name": "Changed", "expertise": "Go"} | changes))

        assert page.status_code == 400, changes
        assert message in page.text, changes
        assert "Your data is saved." not in page.text
        reread(db)
        member = db.session.get(User, member.id)
        assert member.display_name == "Ada", changes
        assert member.topic_names("expertise") == ["Python"], changes
        assert member.timezone == "Europe/Paris"
        assert member.language_codes == []


def test_an_unknown_time_zone_is_refused_by_the_service_too(db, create_user):
    from core.errors import InvalidInput

    member = create_user(timezone="UTC")
    with pytest.raises(InvalidInput, match="Choose a time zone from the list"):
        update_profile(
            member,
            display_name="Ada",
            bio="",
            timezone="Europe/Atlantis",
            locale=None,
            expertise=[],
            interests=[],
            languages=[],
        )
    db.session.rollback()
    assert db.session.get(User, member.id).timezone == "UTC"


def test_choosing_a_site_language(make_app, db, create_user):
    app = make_app(LANGUAGES=["en", "de"])
    member = create_user()
    client = app.test_client()
    client.login(member)

    page = save_profile(client, locale="de")

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    values = form_of(page.text)
    assert values["locale"] == ["de"]
    reread(db)
    assert db.session.get(User, member.id).locale == "de"

    page = save_profile(client, locale="")  # back to following the browser
    reread(db)
    assert db.session.get(User, member.id).locale is None


def test_my_data_of_a_visitor_is_not_saved(client, db, create_user):
    member = create_user(display_name="Ada")

    response = client.post("/me/data", data=profile_form(display_name="Intruder"))

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    reread(db)
    assert db.session.get(User, member.id).display_name == "Ada"


# ---- My data: the photo --------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "filename"), [("PNG", "me.png"), ("JPEG", "Me.JPG")])
def test_a_photo_is_stored_as_a_square_jpeg_and_shown(app, client, db, create_user, fmt, filename):
    member = create_user()
    client.login(member)

    page = upload(client, image_bytes(fmt, (400, 200)), filename)

    assert "Your data is saved." in flashed(page.text)
    reread(db)
    name = db.session.get(User, member.id).photo
    assert re.fullmatch(r"[0-9a-f]{32}\.jpg", name)
    stored = photo_folder(app) / name
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert image.size == (320, 320)
    assert f'src="/photos/{name}"' in client.get(f"/members/{member.id}").text

    served = client.get(f"/photos/{name}")
    assert served.status_code == 200
    assert served.mimetype == "image/jpeg"
    assert served.data == stored.read_bytes()
    assert "private" in served.headers["Cache-Control"]


def test_a_photo_loses_its_metadata(app, client, db, create_user):
    member = create_user()
    client.login(member)
    exif = Image.Exif()
    exif[0x010E] = "Taken at my home address"  # ImageDescription
    exif[0x013B] = "Ada at home"  # Artist

    upload(client, image_bytes("JPEG", (300, 300), exif=exif.tobytes()), "me.jpg")

    reread(db)
    stored = photo_folder(app) / db.session.get(User, member.id).photo
    with Image.open(stored) as image:
        assert dict(image.getexif()) == {}
    assert b"my home address" not in stored.read_bytes()


def test_other_members_see_my_photo_but_visitors_are_sent_to_log_in(app, db, create_user):
    owner, other = create_user(), create_user()
    client = app.test_client()
    client.login(owner)
    upload(client, image_bytes(), "me.png")
    reread(db)
    name = db.session.get(User, owner.id).photo

    other_client = app.test_client()
    other_client.login(other)
    assert f'src="/photos/{name}"' in other_client.get(f"/members/{owner.id}").text
    assert other_client.get(f"/photos/{name}").status_code == 200

    visitor = app.test_client().get(f"/photos/{name}")
    assert visitor.status_code == 302
    assert "/login" in visitor.headers["Location"]


BAD_PHOTOS = [
    (b"just some text, not a picture", "me.png", "This file is not an image we can read."),
    (b"GIF89a" + b"\0" * 40, "me.gif", "This file is not an image we can read."),
    (b"hello", "notes.txt", "Upload a JPEG, PNG, WebP or GIF image."),
    (image_bytes("PNG"), "me.svg", "Upload a JPEG, PNG, WebP or GIF image."),
    (image_bytes("BMP"), "bitmap.png", "Upload a JPEG, PNG, WebP or GIF image."),
    (image_bytes("TIFF"), "scan.jpg", "Upload a JPEG, PNG, WebP or GIF image."),
]


def test_a_bad_photo_is_refused_and_changes_nothing(app, client, db, create_user):
    member = create_user(display_name="Ada")
    client.login(member)

    for content, filename, message in BAD_PHOTOS:
        page = upload(client, content, filename, display_name="Ada Changed")

        assert page.status_code == 400, filename
        assert message in page.text, filename
        reread(db)
        member = db.session.get(User, member.id)
        assert member.photo is None
        assert member.display_name == "Ada"
        assert not photo_folder(app).exists() or not any(photo_folder(app).iterdir())


def test_a_photo_over_the_size_limit_is_refused(make_app, db, create_user):
    app = make_app(PHOTO_MAX_BYTES=100_000)
    member = create_user()
    client = app.test_client()
    client.login(member)
    noise = Image.frombytes("RGB", (250, 250), os.urandom(250 * 250 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert len(buffer.getvalue()) > 100_000

    page = upload(client, buffer.getvalue(), "noise.png")

    assert page.status_code == 400
    assert "The photo may be at most 100 kB." in page.text
    reread(db)
    assert db.session.get(User, member.id).photo is None
    assert not photo_folder(app).exists() or not any(photo_folder(app).iterdir())

    small = upload(client, image_bytes("PNG", (60, 60)), "small.png")
    assert "Your data is saved." in flashed(small.text)


def test_an_upload_far_over_the_limit_is_refused_before_reading_it(make_app, db, create_user):
    app = make_app(PHOTO_MAX_BYTES=1000)
    member = create_user()
    client = app.test_client()
    client.login(member)

    page = upload(client, b"\0" * 1_100_000, "huge.png")

    assert page.status_code == 413
    assert "The file is too large." in page.text
    reread(db)
    assert db.session.get(User, member.id).photo is None


def test_replacing_a_photo_deletes_the_old_file(app, client, db, create_user):
    member = create_user()
    client.login(member)
    upload(client, image_bytes("PNG"), "first.png")
    reread(db)
    first = db.session.get(User, member.id).photo
    refused = upload(client, b"not a picture", "second.png")
    assert refused.status_code == 400
    assert (photo_folder(app) / first).is_file()  # a refused upload keeps the current photo

    page = upload(client, image_bytes("JPEG", (100, 300)), "second.jpg")

    assert "Your data is saved." in flashed(page.text)
    reread(db)
    second = db.session.get(User, member.id).photo
    assert second != first
    assert (photo_folder(app) / second).is_file()
    assert not (photo_folder(app) / first).exists()
    assert client.get(f"/photos/{first}").status_code == 404
    assert client.get(f"/photos/{second}").status_code == 200


def test_saving_my_data_without_a_new_photo_keeps_the_photo(app, client, db, create_user):
    member = create_user()
    client.login(member)
    upload(client, image_bytes(), "me.png")
    reread(db)
    name = db.session.get(User, member.id).photo

    page = save_profile(client, display_name="Ada, renamed")

    assert page.status_code == 200
    assert "Your data is saved." in flashed(page.text)
    reread(db)
    member = db.session.get(User, member.id)
    assert member.display_name == "Ada, renamed"
    assert member.photo == name
    assert (photo_folder(app) / name).is_file()


def test_removing_my_photo(app, client, db, create_user):
    member = create_user(display_name="Ada")
    client.login(member)
    upload(client, image_bytes(), "me.png")
    reread(db)
    name = db.session.get(User, member.id).photo
    assert "remove_photo" in form_of(client.get("/me/data").text)

    page = save_profile(client, display_name="Ada", remove_photo="y")

    assert "Your data is saved." in flashed(page.text)
    assert "remove_photo" not in form_of(page.text)  # nothing left to remove
    reread(db)
    assert db.session.get(User, member.id).photo is None
    assert not (photo_folder(app) / name).exists()
    overview = client.get(f"/members/{member.id}").text
    assert "/photos/" not in overview
    assert "avatar-initials" in overview


def test_photo_names_outside_the_photo_folder_are_not_found(app, client, create_user):
    uploads = Path(app.instance_path) / "uploads"
    (uploads / "photos").mkdir(parents=True)
    (uploads / "secret.jpg").write_bytes(b"not for you")
    (uploads / "photos" / "secret.txt").write_text("nor this")
    client.login(create_user())

    for path in (
        "/photos/../secret.jpg",
        "/photos/..%2Fsecret.jpg",
        "/photos/..%2F..%2Fuploads%2Fsecret.jpg",
        "/photos/%2E%2E%2Fsecret.jpg",
        "/photos/..%5Csecret.jpg",
        "/photos/secret.txt",
        "/photos/0123456789abcdef0123456789abcdef.jpg",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert b"not for you" not in response.data
        assert b"nor this" not in response.data


# ---- what other members see ----------------------------------------------------------------


def test_another_member_sees_the_public_profile_only(client, db, create_user):
    member = create_user(
        email="ada.private@example.org",
        display_name="Ada Lovelace",
        bio="Poet of numbers.",
        timezone="Pacific/Chatham",
    )
    owner = member.id
    own_client = client.application.test_client()
    own_client.login(member)
    save_profile(
        own_client,
        display_name="Ada Lovelace",
        bio="Poet of numbers.",
        expertise="Analytical engines",
        interests="Poetry",
        languages=["it", "fr"],
        timezone="Pacific/Chatham",
    )
    client.login(create_user(display_name="Grace"))

    page = client.get(f"/members/{owner}")

    assert page.status_code == 200
    text = page.text
    for public in (
        "Ada Lovelace",
        "Poet of numbers.",
        "Analytical engines",
        "Poetry",
        "French, Italian",
        "Completed goals",
    ):
        assert public in text
    for private in ("ada.private@example.org", "Pacific/Chatham", "Chatham"):
        assert private not in text
    # their alerts, goals awaiting consent and My data are theirs alone
    assert "Latest alerts" not in text
    assert "Waiting for your consent" not in text
    assert "/me/data" not in profile_tabs(text)
    assert ">My data<" not in profile_tabs(text)


def test_my_own_overview_links_my_data_and_my_alerts(client, create_user):
    member = create_user(display_name="Ada")
    client.login(member)

    page = client.get("/me", follow_redirects=True)

    assert page.request.path == f"/members/{member.id}"
    assert ">My data<" in profile_tabs(page.text)
    assert "Latest alerts" in page.text
    assert "No alerts yet." in page.text
    assert "Tell others about yourself in" in page.text


def test_my_data_of_another_member_is_forbidden(client, create_user):
    member, other = create_user(), create_user(display_name="Grace")
    client.login(other)

    assert client.get(f"/members/{member.id}/data").status_code == 403
    own = client.get(f"/members/{other.id}/data")
    assert own.status_code == 302
    assert own.headers["Location"].endswith("/me/data")


def test_unknown_and_unconfirmed_members_are_not_found(client, create_user):
    unconfirmed = create_user(confirmed=False, display_name="Not Yet")
    client.login(create_user())

    for member_id in (unconfirmed.id, unconfirmed.id + 1000):
        for suffix in ("", "/data"):
            response = client.get(f"/members/{member_id}{suffix}")
            assert response.status_code == 404, suffix
            assert "Not Yet" not in response.text


def test_unknown_profile_areas_are_not_found(client, create_user):
    member = create_user()
    client.login(member)

    assert client.get(f"/members/{member.id}/wiki").status_code == 404


def test_profile_pages_need_a_login(client, create_user):
    member = create_user(display_name="Ada Lovelace")

    for path in (
        "/me",
        "/me/data",
        "/members/{id}",
        "/members/{id}/mentoring",
        "/members/{id}/groups",
    ):
        response = client.get(path.format(id=member.id))
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]
        assert "Ada Lovelace" not in response.text


def test_without_plugins_a_profile_has_only_overview_and_my_data(client, create_user):
    member = create_user()
    client.login(member)

    tabs = profile_tabs(client.get(f"/members/{member.id}").text)

    assert re.findall(r">([^<>]+)</a>", tabs) == ["Overview", "My data"]
    for area in ("mentoring", "groups"):  # no plugin contributes them
        assert client.get(f"/members/{member.id}/{area}").status_code == 404


# ---- plugin sections and goals -------------------------------------------------------------


class ProbePlugin:
    """A throwaway plugin: a goal kind, two profile areas, and sections on them and on the
    Overview."""

    def __init__(self) -> None:
        self.completed: list[int] = []

    @hookimpl
    def register_goal_kinds(self):
        return [GoalKind("probe.milestone", "Reached a milestone")]

    @hookimpl
    def goal_completed(self, goal):
        self.completed.append(goal.id)

    @hookimpl
    def register_profile_areas(self):
        return [
            ProfileArea("probe_club", "Club", "Nobody reads here yet.", order=20),
            ProfileArea("probe", "Notebook", "Nothing noted here yet.", order=10),
        ]

    @hookimpl
    def register_profile_sections(self):
        return [
            ProfileSection("probe", "Private notes", render=self.private_notes),
            ProfileSection("probe_club", "Book club", render=self.book_club),
            ProfileSection("overview", "Badges", render=self.badges, order=5),
        ]

    @staticmethod
    def private_notes(member, viewer):
        if viewer.id != member.id:
            return None  # only the member sees their notes
        return f"<p class='probe'>Notes for {escape(member.display_name)}</p>"

    @staticmethod
    def book_club(member, viewer):
        return f"<p class='probe'>{escape(member.display_name)} reads with us.</p>"

    @staticmethod
    def badges(member, viewer):
        return "<p class='probe'>Early bird</p>"


class TestWithAPlugin:
    @pytest.fixture
    def probe(self) -> ProbePlugin:
        return ProbePlugin()

    @pytest.fixture
    def app(self, make_app, probe):
        return make_app(extra_plugins={"probe": probe}, PLUGINS=["probe"])

    def test_a_plugin_section_shows_on_its_area(self, client, create_user):
        member = create_user(display_name="Ada <3")
        client.login(member)

        mentoring = client.get(f"/members/{member.id}/probe").text
        groups = client.get(f"/members/{member.id}/probe_club").text
        overview = client.get(f"/members/{member.id}").text

        assert "Private notes" in mentoring
        assert "Notes for Ada &lt;3" in mentoring
        assert "Nothing noted here yet." not in mentoring
        assert "Book club" in groups
        assert "Ada &lt;3 reads with us." in groups
        assert "Nobody reads here yet." not in groups
        assert re.findall(r">([^<>]+)</a>", profile_tabs(overview)) == [
            "Overview",
            "Notebook",
            "Club",
            "My data",
        ]
        assert "Early bird" in overview
        assert "Book club" not in overview and "Private notes" not in overview

    def test_a_section_can_hide_itself_from_other_members(self, client, create_user):
        member = create_user(display_name="Ada")
        client.login(create_user(display_name="Grace"))

        mentoring = client.get(f"/members/{member.id}/probe").text
        groups = client.get(f"/members/{member.id}/probe_club").text

        assert "Private notes" not in mentoring
        assert "Notes for" not in mentoring
        assert "Nothing noted here yet." in mentoring
        assert "Ada reads with us." in groups
        for page in (mentoring, groups):  # an area shows the public profile only
            assert "Ada" in page and "member1@example.org" not in page

    def test_an_unknown_area_is_not_found(self, client, create_user):
        member = create_user()
        client.login(member)

        assert client.get(f"/members/{member.id}/probe_club").status_code == 200
        for area in ("mentoring", "groups", "probe_none", "overview"):
            assert client.get(f"/members/{member.id}/{area}").status_code == 404

    def propose(self, db, title, *parties):
        goal = propose_goal("probe.milestone", title, list(parties))
        db.session.commit()
        return goal.id

    def test_a_goal_completes_when_both_parties_consent_on_their_overview(
        self, app, db, create_user, probe
    ):
        ada, grace = create_user(display_name="Ada"), create_user(display_name="Grace")
        goal_id = self.propose(db, "First meeting held", ada, grace)
        clients = {}
        for member in (ada, grace):
            clients[member.id] = app.test_client()
            clients[member.id].login(member)
            page = clients[member.id].get("/me", follow_redirects=True).text
            waiting = section(page, "Waiting for your consent")
            assert "First meeting held" in waiting
            assert "Reached a milestone" in waiting
            assert f'action="/goals/{goal_id}/consent"' in waiting
            assert "First meeting held" not in section(page, "Completed goals")

        page = clients[ada.id].post(f"/goals/{goal_id}/consent", follow_redirects=True).text

        assert "Thank you. The goal completes when everyone has agreed." in flashed(page)
        assert "Waiting for your consent" not in page
        assert "First meeting held" not in section(page, "Completed goals")
        grace_page = clients[grace.id].get("/me", follow_redirects=True).text
        assert "First meeting held" in section(grace_page, "Waiting for your consent")
        assert probe.completed == []

        page = clients[grace.id].post(f"/goals/{goal_id}/consent", follow_redirects=True).text

        assert "Goal completed: First meeting held" in flashed(page)
        assert "Waiting for your consent" not in page
        for member in (ada, grace):
            page = clients[member.id].get("/me", follow_redirects=True).text
            completed = section(page, "Completed goals")
            assert "First meeting held" in completed
            assert "Reached a milestone" in completed
        assert probe.completed == [goal_id]
        # the other party sees it on Ada's profile as she does
        assert "First meeting held" in section(
            clients[grace.id].get(f"/members/{ada.id}").text, "Completed goals"
        )
        # everyone else sees what kind of goal it was, not its title: a goal's title may say
        # who mentored whom, which is the pair's business
        viewer = app.test_client()
        viewer.login(create_user())
        seen = section(viewer.get(f"/members/{ada.id}").text, "Completed goals")
        assert "Reached a milestone" in seen
        assert "First meeting held" not in seen

    def test_someone_else_cannot_consent_to_a_goal(self, app, client, db, create_user, probe):
        ada, grace = create_user(), create_user()
        goal_id = self.propose(db, "Agreement signed", ada, grace)
        client.login(create_user(display_name="Mallory"))
        ada_overview = client.get(f"/members/{ada.id}").text
        assert "Agreement signed" not in ada_overview  # an open goal is the parties' business
        assert f"/goals/{goal_id}/" not in ada_overview

        response = client.post(f"/goals/{goal_id}/consent", follow_redirects=True)
        declined = client.post(f"/goals/{goal_id}/decline", follow_redirects=True)

        for answer in (response, declined):
            assert answer.status_code == 403
            assert "You are not a party to this goal." in answer.text
        reread(db)
        goal = db.session.get(Goal, goal_id)
        assert goal.is_open
        assert [party.decision for party in goal.parties] == ["pending", "pending"]
        assert probe.completed == []
        ada_client = app.test_client()
        ada_client.login(ada)
        page = ada_client.get("/me", follow_redirects=True).text
        assert "Agreement signed" in section(page, "Waiting for your consent")

    def test_a_missing_goal_is_not_found(self, client, create_user):
        client.login(create_user())

        response = client.post("/goals/999/consent")

        assert response.status_code == 404
        assert "This goal does not exist." in response.text

    def test_declining_closes_the_goal_for_everyone(self, app, db, create_user, probe):
        ada, grace = create_user(), create_user()
        goal_id = self.propose(db, "Final meeting held", ada, grace)
        ada_client, grace_client = app.test_client(), app.test_client()
        ada_client.login(ada)
        grace_client.login(grace)

        page = ada_client.post(f"/goals/{goal_id}/decline", follow_redirects=True).text

        assert "You declined this goal." in flashed(page)
        assert "Waiting for your consent" not in page
        grace_page = grace_client.get("/me", follow_redirects=True).text
        assert "Final meeting held" not in grace_page

        page = grace_client.post(f"/goals/{goal_id}/consent", follow_redirects=True).text

        assert "This goal was declined." in flashed(page)
        assert "Final meeting held" not in section(page, "Completed goals")
        reread(db)
        goal = db.session.get(Goal, goal_id)
        assert goal.declined_at is not None and goal.completed_at is None
        decisions = db.session.scalars(
            select(GoalParty.decision).where(GoalParty.goal_id == goal_id)
        ).all()
        assert sorted(decisions) == ["declined", "pending"]
        assert probe.completed == []

    def test_a_completed_goal_cannot_be_declined_afterwards(self, app, db, create_user):
        ada = create_user()
        goal_id = self.propose(db, "Wrote a plan", ada)
        client = app.test_client()
        client.login(ada)
        client.post(f"/goals/{goal_id}/consent")

        page = client.post(f"/goals/{goal_id}/decline", follow_redirects=True).text

        assert "This goal is already completed." in flashed(page)
        assert "Wrote a plan" in section(page, "Completed goals")


def test_a_small_file_of_a_huge_image_is_refused_before_it_is_decoded(client, db, create_user):
    member = create_user()
    client.login(member)
    huge = image_bytes("PNG", size=(6000, 6000))  # a few kB of PNG, 36 million pixels
    assert len(huge) < 2_000_000

    page = upload(client, huge, "huge.png")

    assert page.status_code == 400
    assert "This image is too large" in page.text
    reread(db)
    assert db.session.get(User, member.id).photo is None
