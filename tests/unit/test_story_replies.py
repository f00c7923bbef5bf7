"""`qa.story_replies` (the reply guard step of `make story-test`) renders the responses the
stories run with the slots they have, so an empty slot in a template is caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import story_replies

DOMAIN = """
version: "3.1"
intents: [inform]
entities: [protection_plan_number]
slots:
  protection_plan_number:
    type: text
    influence_conversation: false
    mappings:
      - type: from_entity
        entity: protection_plan_number
responses:
  utter_plan:
    - text: "What would you like to do with {protection_plan_number}?"
"""

STORIES = """
version: "3.1"
stories:
  - story: the plan number was given
    steps:
      - user: |
          it's [DP-300101](protection_plan_number)
        intent: inform
      - action: utter_plan
  - story: no plan number
    steps:
      - user: |
          hello
        intent: inform
      - action: utter_plan
"""


def test_a_template_is_rendered_with_the_slots_of_its_point_in_the_story(tmp_path: Path) -> None:
    (tmp_path / "domain.yml").write_text(DOMAIN)
    (tmp_path / "stories.yml").write_text(STORIES)
    replies = list(story_replies.story_replies([tmp_path / "stories.yml"], tmp_path / "domain.yml"))
    texts = {r.story.split(" :: ")[1]: r.message["text"] for r in replies}
    assert texts == {
        "the plan number was given": "What would you like to do with DP-300101?",
        "no plan number": "What would you like to do with None?",
    }
    # The command fails on it, naming the story.
    assert (
        story_replies.main(
            [str(tmp_path / "stories.yml"), "--domain", str(tmp_path / "domain.yml")]
        )
        == 1
    )


def test_the_project_stories_send_no_broken_reply(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert story_replies.main([]) == 0
    out = capsys.readouterr().out
    checked = int(out.split("reply guard: ")[1].split(" replies")[0])
    assert checked > 50
    assert "DEFECT" not in out
