"""Fields of study: the operator's two-level list (a CSV file, ISCED-F 2013 by default), each
member's fields as mentor and as mentee under My data, the directory's filter by broad and by
narrow field, a changed file's report, and the fields in the data export and erasure."""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select

from core.api import ConfigError
from core.db import db as database
from core.models import User
from core.testing import stored
from plugins.mentoring.account_end import erase_member
from plugins.mentoring.cli import mentoring_command
from plugins.mentoring.export import mentoring_part
from plugins.mentoring.models import MemberField
from plugins.mentoring.services import fields
from plugins.mentoring.services.fields import FieldsFileError, parse_fields, read_fields

MENTOR_FIELDS, MENTEE_FIELDS = "mentoring_fields_as_mentor", "mentoring_fields_as_mentee"

GOOD = """\
# a comment, and a blank line below

code,name,parent
A,Arts,
A1,Painting,A
A2,"Music, song and dance",A
S,Sciences,
S1,Physics,S
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(FieldsFileError) as raised:
        parse_fields(text)
    return raised.value.problems


def rows_of(app, user_id: int) -> set[tuple[str, str]]:
    with app.app_context():
        try:
            found = database.session.scalars(
                select(MemberField).where(MemberField.user_id == user_id)
            )
            return {(row.role, row.code) for row in found}
        finally:
            database.session.remove()


def operator(app) -> str:
    """What ``alma mentoring fields`` says, run in ``app``."""
    with app.app_context():
        try:
            return CliRunner().invoke(mentoring_command, ["fields"]).output
        finally:
            database.session.remove()


def listed(page: str) -> list[str]:
    """The mentors' names on a directory page, in their order."""
    return [html.unescape(name) for name in re.findall(r'class="stretched-link">([^<]*)</a>', page)]


def directory(client, **query: str) -> str:
    response = client.get("/mentoring/mentors", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fields.csv"
    path.write_text(text, encoding="utf-8")
    return path


# ---- the file --------------------------------------------------------------------------------


def test_a_good_file_gives_broad_fields_with_their_narrow_fields_in_order():
    listed_fields = parse_fields(GOOD)

    assert [one.code for one in listed_fields.broad] == ["A", "S"]
    assert [one.name for one in listed_fields.narrow["A"]] == ["Painting", "Music, song and dance"]
    assert list(listed_fields.by_code) == ["A", "A1", "A2", "S", "S1"]
    assert listed_fields.codes_under("A") == ["A", "A1", "A2"]
    assert listed_fields.codes_under("A2") == ["A2"]


def test_narrow_fields_may_come_before_their_broad_field_and_the_header_may_have_spaces():
    listed_fields = parse_fields("code, name, parent\nA1,Painting,A\nA,Arts,\n")

    assert listed_fields.codes_under("A") == ["A", "A1"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "name,code,parent\nA,Arts,\n",
            "line 1: the first line that is not a comment must be the header",
        ),
        ("", "line 1: the first line that is not a comment must be the header"),
        ("code,name,parent\nA,Arts,\nA1,Painting,Z\n", "line 3: unknown parent 'Z'"),
        ("code,name,parent\nA,Arts,\nA,Again,\n", "line 3: duplicate code 'A' (first on line 2)"),
        ("code,name,parent\nA,Arts,\nA 1,Painting,A\n", "line 3: bad code 'A 1'"),
        ("code,name,parent\nA,Arts,\nTOOLONGCODE,Painting,A\n", "line 3: bad code 'TOOLONGCODE'"),
        ("code,name,parent\nA,Arts,\nA1,Painting,A,extra\n", "line 3: has 4 columns, not 3"),
        ("code,name,parent\nA,Arts,\nA1,,A\n", "line 3: code 'A1' has no name"),
        ("code,name,parent\nA,Arts,\nA,Arts,A\n", "line 3: duplicate code 'A'"),
        ("code,name,parent\nB,Self,B\n", "line 2: code 'B' is its own parent"),
        ("code,name,parent\nA,Arts,\n,Painting,A\n", "line 3: has no code"),
        (
            "# a comment\ncode;name;parent\nA;Arts;\n",
            "line 2: the first line that is not a comment must be the header",
        ),
        (
            "code,name,parent\nA,Arts,\nA1,Painting,A\nA11,Oil,A1\n",
            "line 4: parent 'A1' is a narrow field",
        ),
        ("code,name,parent\n# nothing\n", "has no field"),
    ],
)
def test_each_mistake_in_the_file_is_named_with_its_line(text, problem):
    assert any(found.startswith(problem) for found in problems_of(text)), problems_of(text)


def test_every_mistake_is_reported_at_once():
    found = problems_of("code,name,parent\nA,Arts,\nA1,Painting,Q\nA,Again,\n")

    assert found == ["line 3: unknown parent 'Q'", "line 4: duplicate code 'A' (first on line 2)"]


def test_a_file_that_cannot_be_read_says_so(tmp_path):
    with pytest.raises(FieldsFileError, match="cannot be read"):
        read_fields(tmp_path / "missing.csv")
    (tmp_path / "latin1.csv").write_bytes("code,name,parent\nA,K\xfcnste,\n".encode("latin-1"))
    with pytest.raises(FieldsFileError, match="not UTF-8"):
        read_fields(tmp_path / "latin1.csv")


def test_the_shipped_file_has_every_isced_f_2013_broad_field_and_its_narrow_fields():
    shipped = read_fields(fields.SHIPPED_FILE)

    assert [one.code for one in shipped.broad] == [f"{n:02d}" for n in range(11)]
    names = {one.code: one.name for one in shipped.by_code.values()}
    assert names["06"] == "Information and Communication Technologies (ICTs)"
    assert names["061"] == "Information and Communication Technologies (ICTs)"
    assert names["023"] == "Languages"
    assert names["042"] == "Law"
    assert names["054"] == "Mathematics and statistics"
    assert names["073"] == "Architecture and construction"
    assert names["084"] == "Veterinary"
    assert names["092"] == "Welfare"
    assert names["104"] == "Transport services"
    assert [one.code for one in shipped.narrow["00"]] == ["001", "002", "003"]
    assert [one.code for one in shipped.narrow["10"]] == ["101", "102", "103", "104", "108"]
    for broad in shipped.broad:  # each narrow field's code is its broad field's and a digit
        assert all(re.fullmatch(broad.code + r"\d", one.code) for one in shipped.narrow[broad.code])
    assert len(shipped.by_code) == 11 + 39  # no detailed (4-digit) field


def test_the_shipped_names_are_extracted_for_translation():
    with fields.SHIPPED_FILE.open("rb") as file:
        found = list(fields.extract_field_names(file, (), (), {}))

    assert (7, "gettext", "Basic programmes and qualifications", ["field of study 001"]) in found
    assert len(found) == 50


def test_a_bad_file_stops_alma_at_startup_naming_the_line(make_app, tmp_path):
    path = write(tmp_path, "code,name,parent\nA,Arts,\nA1,Painting,X\n")

    with pytest.raises(ConfigError) as raised:
        make_app(PLUGIN_SETTINGS={"mentoring": {"fields_file": str(path)}})

    assert "plugins.mentoring.fields_file" in str(raised.value)
    assert f"{path}: line 3: unknown parent 'X'" in str(raised.value)


def test_a_missing_file_stops_alma_at_startup(make_app, tmp_path):
    with pytest.raises(ConfigError, match=r"fields\.csv: cannot be read"):
        make_app(PLUGIN_SETTINGS={"mentoring": {"fields_file": str(tmp_path / "fields.csv")}})


# ---- a member's fields under My data -----------------------------------------------------------


def save_my_data(client, **chosen):
    data = {"display_name": "Ada", "timezone": "UTC"} | chosen
    return client.post("/me/data", data=data, follow_redirects=True)


def selected_options(page: str, name: str) -> list[str]:
    select_tag = re.search(rf'<select[^>]*name="{name}".*?</select>', page, re.S).group(0)
    return re.findall(r'<option value="([^"]*)" selected>', select_tag)


def test_my_data_offers_the_fields_grouped_by_broad_field(client, member):
    client.login(member)

    page = client.get("/me/data").text

    mentor_select = re.search(rf'<select[^>]*name="{MENTOR_FIELDS}".*?</select>', page, re.S)[0]
    assert "multiple" in mentor_select and "data-picker" in mentor_select
    group = re.search(r'<optgroup label="Arts and humanities">(.*?)</optgroup>', mentor_select)[1]
    assert re.findall(r'<option value="([^"]*)">', group) == ["02", "021", "022", "023", "028"]
    assert "Arts and humanities, in general" in group
    assert f'name="{MENTEE_FIELDS}"' in page
    assert "and your fields as a mentor" in page  # who sees what


def test_a_member_chooses_fields_as_mentor_and_as_mentee(app, client, member):
    client.login(member)

    page = save_my_data(
        client, wants_to_mentor="y", **{MENTOR_FIELDS: ["061", "05"], MENTEE_FIELDS: ["042"]}
    )

    assert "Your data is saved." in page.text
    assert rows_of(app, member.id) == {("mentor", "061"), ("mentor", "05"), ("mentee", "042")}
    assert selected_options(page.text, MENTOR_FIELDS) == ["05", "061"]  # in the list's order
    assert selected_options(page.text, MENTEE_FIELDS) == ["042"]

    save_my_data(client, wants_to_mentor="y", **{MENTOR_FIELDS: ["061"]})  # one removed

    assert rows_of(app, member.id) == {("mentor", "061")}


def test_a_code_not_in_the_list_is_refused_and_nothing_is_saved(app, client, member):
    client.login(member)

    page = save_my_data(client, display_name="Changed", **{MENTOR_FIELDS: ["061", "999"]})

    assert page.status_code == 400
    assert rows_of(app, member.id) == set()
    assert stored(app, select(User.display_name).where(User.id == member.id)) == "Mo Member"


def test_the_service_refuses_an_unknown_code(db, member):
    with pytest.raises(Exception, match="999 is not a field of study here"):
        fields.choose_fields(member, fields.MENTOR, ["999"])


def test_saving_the_same_fields_twice_keeps_one_row_each(app, client, member):
    client.login(member)

    for _ in range(2):
        assert save_my_data(client, **{MENTEE_FIELDS: ["023"]}).status_code == 200

    assert rows_of(app, member.id) == {("mentee", "023")}


def test_the_mentors_fields_show_on_their_profile(client, create_user, member):
    mentor = create_user(
        display_name="Ada", wants_to_mentor=True, **{MENTOR_FIELDS: ["061"], MENTEE_FIELDS: ["042"]}
    )
    client.login(member)

    page = html.unescape(client.get(f"/members/{mentor.id}").text)

    assert "Fields of study" in page
    assert "Information and Communication Technologies (ICTs)" in page
    assert ">Law<" not in page  # what they look for as a mentee is theirs


# ---- the directory -----------------------------------------------------------------------------


@pytest.fixture
def mentors(create_user):
    create_user(display_name="Ada Broad", wants_to_mentor=True, **{MENTOR_FIELDS: ["06"]})
    create_user(display_name="Bob Narrow", wants_to_mentor=True, **{MENTOR_FIELDS: ["061"]})
    create_user(display_name="Cid Maths", wants_to_mentor=True, **{MENTOR_FIELDS: ["054", "068"]})
    create_user(display_name="Dee None", wants_to_mentor=True)
    # looking for a mentor in ICT is not offering it
    create_user(display_name="Eve Mentee", wants_to_mentor=True, **{MENTEE_FIELDS: ["061"]})


@pytest.mark.usefixtures("mentors")
def test_the_directory_filters_by_broad_field_with_its_narrow_fields(client, member):
    client.login(member)

    page = directory(client, field="06")

    assert listed(page) == ["Ada Broad", "Bob Narrow", "Cid Maths"]
    # its narrow fields, to narrow the search
    nav = html.unescape(page.split("data-field-nav", 1)[1].split("</nav>", 1)[0])
    assert "Within Information and Communication Technologies (ICTs):" in nav
    assert "field=061" in nav and "field=068" in nav


@pytest.mark.usefixtures("mentors")
def test_the_directory_filters_by_a_single_field(client, member):
    client.login(member)

    assert listed(directory(client, field="061")) == ["Bob Narrow"]
    assert listed(directory(client, field="054")) == ["Cid Maths"]
    assert listed(directory(client, field="05")) == ["Cid Maths"]
    assert listed(directory(client, field="09")) == []
    assert len(listed(directory(client))) == 5


@pytest.mark.usefixtures("mentors")
def test_the_directory_cards_show_the_mentors_fields(client, member):
    client.login(member)

    page = html.unescape(directory(client, q="Cid"))

    assert "Mathematics and statistics" in page
    assert "Inter-disciplinary programmes and qualifications involving Information" in page


@pytest.mark.usefixtures("mentors")
def test_a_field_the_list_does_not_have_is_said_and_not_applied(client, member):
    client.login(member)

    page = directory(client, field="999")

    assert "no longer offered here" in page
    assert len(listed(page)) == 5


def test_pages_of_a_filtered_directory_keep_the_filter(client, create_user, member):
    for number in range(13):
        create_user(
            display_name=f"Mentor {number:02d}", wants_to_mentor=True, **{MENTOR_FIELDS: ["023"]}
        )
    create_user(display_name="Other Field", wants_to_mentor=True, **{MENTOR_FIELDS: ["042"]})
    client.login(member)

    first = directory(client, field="02")
    next_link = html.unescape(re.search(r'href="([^"]*)">Next</a>', first)[1])
    assert "field=02" in next_link

    second = client.get(next_link).text
    assert listed(second) == ["Mentor 12"]


# ---- a changed file ----------------------------------------------------------------------------


def test_a_changed_file_keeps_the_choices_it_still_has_and_reports_the_others(
    make_app, create_user, tmp_path, caplog
):
    members = [create_user().id for _ in range(3)]
    path = write(tmp_path, GOOD)
    app = make_app(PLUGIN_SETTINGS={"mentoring": {"fields_file": str(path)}})
    with app.app_context():
        for user_id, codes in zip(members, (["A1", "S1"], ["S1"], ["S"]), strict=True):
            fields.choose_fields(database.session.get_one(User, user_id), fields.MENTOR, codes)
        fields.choose_fields(database.session.get_one(User, members[0]), fields.MENTEE, ["S1"])
        database.session.commit()
        database.session.remove()

    # the operator drops the sciences' narrow field S1, and restarts
    path.write_text(GOOD.replace("S1,Physics,S\n", ""), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger=fields.__name__):
        restarted = make_app(PLUGIN_SETTINGS={"mentoring": {"fields_file": str(path)}})

    assert "members hold codes the file" in caplog.text
    assert "S1: 2 members" in caplog.text  # the first holds it twice: one member
    with restarted.app_context():
        assert fields.codes_no_longer_listed() == [fields.UnlistedCode("S1", 2)]
        first = database.session.get_one(User, members[0])
        assert fields.chosen_codes(first, fields.MENTOR) == ["A1"]  # S1 not shown
        fields.choose_fields(first, fields.MENTOR, ["A2"])  # saving keeps what was not offered
        assert fields.chosen_codes(first, fields.MENTOR) == ["A2"]
        database.session.commit()
        database.session.remove()
    assert rows_of(restarted, members[0]) == {("mentor", "A2"), ("mentor", "S1"), ("mentee", "S1")}
    assert "S1: 2 members" in operator(restarted)


def test_the_command_says_when_every_chosen_field_is_listed(app, create_user):
    create_user(**{MENTOR_FIELDS: ["061"]})

    said = operator(app)

    assert "fields_of_study.csv: 11 broad fields, 39 narrow fields" in said
    assert "Every field members chose is in the file." in said


# ---- the member's data -------------------------------------------------------------------------


def test_the_export_has_the_fields_as_mentor_and_as_mentee(db, create_user):
    member = create_user(**{MENTOR_FIELDS: ["061"], MENTEE_FIELDS: ["02"]})
    db.session.add(MemberField(user_id=member.id, role="mentee", code="OLD"))  # dropped since
    db.session.commit()

    part = mentoring_part(member)

    assert part.data["fields_of_study"] == {
        "as_mentor": [{"code": "061", "name": "Information and Communication Technologies (ICTs)"}],
        "as_mentee": [
            {"code": "02", "name": "Arts and humanities"},
            {"code": "OLD", "name": None},
        ],
    }
    assert "fields of study" in part.about


def test_erasing_a_member_removes_their_fields(app, db, create_user):
    erased = create_user(**{MENTOR_FIELDS: ["061"], MENTEE_FIELDS: ["02"]})
    other = create_user(**{MENTOR_FIELDS: ["061"]})

    erase_member(erased)
    db.session.commit()

    assert rows_of(app, erased.id) == set()
    assert rows_of(app, other.id) == {("mentor", "061")}


def test_deleting_a_member_deletes_their_fields(app, db, create_user):
    deleted = create_user(**{MENTOR_FIELDS: ["061"]})

    db.session.execute(delete(User).where(User.id == deleted.id))
    db.session.commit()

    assert rows_of(app, deleted.id) == set()


def test_the_demo_mentors_show_in_the_directory_filtered_by_field(app, db, client, member):
    from core.demo import create_demo_members

    create_demo_members()
    db.session.commit()
    client.login(member)

    assert listed(directory(client, field="06")) == ["Anna Berg", "David Chen"]
    assert listed(directory(client, field="02")) == ["Ben Okafor"]
    chloe = db.session.scalar(select(User).where(User.email == "chloe@example.org"))
    assert fields.chosen_codes(chloe, fields.MENTEE) == ["06"]
