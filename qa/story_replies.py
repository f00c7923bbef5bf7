"""The reply guard over the test stories: every bot message `rasa test` would have them send.

`rasa test core` compares the dialogue model's predictions with `tests/stories/` but sends no
message, so a domain response that would say "None" or "{protection_plan_number}" passes
it. This tool (the second step of `make story-test`) replays each story's events on a Rasa
tracker and renders, with Rasa's own templated NLG and the slots at that point, every
response the story runs (`action: utter_*`), every form question the story's forms ask
(`requested_slot: <slot>` with an `utter_ask_<slot>`), and checks each with
`quickconnect.reply_guard`, as well as every `bot:` text. Slots a user message fills from its
entities (`from_entity` mappings, which stories do not spell out) are set as Rasa would.

    python -m qa.story_replies                 # tests/stories
    python -m qa.story_replies path/to/stories.yml ...

Exit code 1 when any message has a defect; the last line says how many were checked.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quickconnect import reply_guard
from quickconnect.config import PROJECT_ROOT

DEFAULT_STORIES = PROJECT_ROOT / "tests" / "stories"
DOMAIN_PATH = PROJECT_ROOT / "domain.yml"
REQUESTED_SLOT = "requested_slot"


@dataclass(frozen=True)
class Reply:
    """One bot message a story would send, and where."""

    story: str
    source: str  # the response name, or "bot:" for a story's literal bot text
    message: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.story} :: {self.source}"


def _story_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files += sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    return files


def _entity_slots(domain: Any, entities: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    """(slot, value) for each entity a `from_entity` mapping copies into a slot."""
    filled = []
    for slot in domain.slots:
        for mapping in slot.mappings:
            if mapping.get("type") != "from_entity":
                continue
            for entity in entities:
                if entity.get("entity") == mapping.get("entity") and entity.get("value"):
                    filled.append((slot.name, entity["value"]))
    return filled


def story_replies(paths: Sequence[Path], domain_path: Path = DOMAIN_PATH) -> Iterator[Reply]:
    """Every bot message of every story in `paths`, rendered at its point in the story."""
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        domain = Domain.load(str(domain_path))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)

    def render(name: str, tracker: DialogueStateTracker) -> dict[str, Any] | None:
        message = asyncio.run(nlg.generate(name, tracker, "rest"))
        return dict(message) if message is not None else None

    for path in _story_files(paths):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            steps = YAMLStoryReader(domain, source_name=str(path)).read_from_file(path)
        for step in steps:
            story = f"{path.name} :: {step.block_name}"
            tracker = DialogueStateTracker(story, domain.slots)
            for event in step.events:
                if isinstance(event, UserUttered):
                    tracker.update(event)
                    for slot, value in _entity_slots(domain, list(event.entities or [])):
                        tracker.update(SlotSet(slot, value))
                    continue
                tracker.update(event)
                if isinstance(event, ActionExecuted):
                    if event.action_text:
                        yield Reply(story, "bot:", {"text": event.action_text})
                    elif event.action_name and event.action_name in domain.responses:
                        message = render(event.action_name, tracker)
                        if message is not None:
                            yield Reply(story, event.action_name, message)
                elif (
                    isinstance(event, SlotSet)
                    and event.key == REQUESTED_SLOT
                    and event.value
                    and tracker.active_loop_name
                    and f"utter_ask_{event.value}" in domain.responses
                ):
                    name = f"utter_ask_{event.value}"
                    message = render(name, tracker)
                    if message is not None:
                        yield Reply(story, name, message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.story_replies",
        description="Check every bot message of the test stories with the reply guard.",
    )
    parser.add_argument("paths", nargs="*", type=Path, default=[DEFAULT_STORIES])
    parser.add_argument("--domain", type=Path, default=DOMAIN_PATH)
    args = parser.parse_args(argv)
    tally = reply_guard.Tally()
    for reply in story_replies(args.paths, args.domain):
        for defect in tally.check(reply.message, reply.where):
            print(f"DEFECT  {reply.where}: {defect} in {reply.message.get('text')!r}")
    print(f"test stories {tally.summary()}")
    return 1 if tally.defects else 0


if __name__ == "__main__":
    sys.exit(main())
