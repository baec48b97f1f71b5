"""Every hook is documented in docs/hooks.md with its exact arguments."""

import inspect
import re
from pathlib import Path

from core import hookspecs

DOCS = Path(__file__).parents[2] / "docs" / "hooks.md"


def hookspec_functions():
    return {
        name: function
        for name, function in vars(hookspecs).items()
        if inspect.isfunction(function) and hasattr(function, "alma_spec")
    }


def test_every_hook_is_documented_with_its_signature():
    documented = dict(re.findall(r"^### `(\w+)\(([^)]*)\)`$", DOCS.read_text(), re.MULTILINE))
    for name, function in hookspec_functions().items():
        arguments = ", ".join(inspect.signature(function).parameters)
        assert documented.get(name) == arguments, f"docs/hooks.md: `{name}({arguments})`"


def test_the_docs_list_no_hook_that_does_not_exist():
    documented = re.findall(r"^### `(\w+)\(", DOCS.read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(hookspec_functions())


def test_every_setting_is_documented_for_operators():
    from core.config import SETTINGS

    operating = (DOCS.parent / "operating.md").read_text()
    missing = [key for key in SETTINGS if f"`{key}`" not in operating]
    assert not missing, f"docs/operating.md lacks {missing}"


def guide_section_on_the_testing_api() -> str:
    guide = (DOCS.parent / "writing-plugins.md").read_text()
    start = guide.index("## The testing API (`core.testing`)")
    end = guide.find("\n## ", start + 1)
    return guide[start : end if end != -1 else None]


def test_every_fixture_and_name_of_the_testing_api_is_documented():
    """Plugin authors test with core.testing: what it offers them is in the guide."""
    from core import testing

    source = Path(testing.__file__).read_text()
    fixtures = re.findall(r"^@pytest\.fixture(?:\(.*\))?\ndef (\w+)", source, re.MULTILINE)
    section = guide_section_on_the_testing_api()

    assert {"app", "client", "make_app", "socket_as"} <= set(fixtures)
    missing = [name for name in testing.__all__ if not hasattr(testing, name)]
    undocumented = [
        name for name in [*fixtures, *testing.__all__] if not re.search(rf"`{name}[`(]", section)
    ]
    assert (missing, undocumented) == ([], [])
