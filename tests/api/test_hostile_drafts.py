"""The broken-input corpus through the API: POST /validate answers every file with the problems the loader finds,
message for message (no 500, no traceback), and a broken file in the mappings folder does not break the listing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from databridge.errors import SpecError
from tests.api.conftest import Api
from tests.unit.test_spec_errors import BROKEN, EXPECTED, load_and_compile

pytestmark = pytest.mark.e2e

TEXT_FILES = sorted(name for name in EXPECTED if name != "not_utf8.yaml")  # JSON carries text, not bytes


def test_every_broken_file_gets_the_same_problems_from_the_api(api: Api) -> None:
    answers = {}
    for name in TEXT_FILES:
        with pytest.raises(SpecError) as caught:
            load_and_compile(str(BROKEN / name))
        response = api.call("POST", "/validate", json={"yaml": (BROKEN / name).read_text(encoding="utf-8")})
        answers[name] = (response.status_code, response.json())
        spec_terms = [
            {"path": p["path"], "message": p["message"]} for p in answers[name][1]["problems"]
        ]  # besides the wizard's
        assert (answers[name][0], answers[name][1]["valid"], spec_terms) == (
            200,
            False,
            [{"path": p, "message": m} for p, m in caught.value.problems],
        ), name
    assert len(answers) == len(EXPECTED) - 1


def test_broken_files_in_the_mappings_folder_are_listed_with_their_error(api: Api, mappings: Path) -> None:
    names = ("yaml_deep_nesting.yaml", "yaml_alias_bomb.yaml", "not_utf8.yaml", "yaml_duplicate_key.yaml")
    for name in names:
        shutil.copy(BROKEN / name, mappings / name)

    response = api.call("GET", "/projects", user="viewer")

    assert response.status_code == 200, response.text
    listed = {Path(p["file"]).name: (p["ok"], p["error"].split(": ", 1)[1]) for p in response.json()}
    assert listed == {name: (False, EXPECTED[name]) for name in names}
