"""What the widget and the console are sent: message views and transcripts from tracker events;
what the sockets accept as a frame."""

from __future__ import annotations

from rasa_extensions.webchat import SESSION_TOKEN, conversation_for, customer_view, transcript
from rasa_extensions.webchat.common import json_object

EVENTS = [
    {"event": "action", "name": "action_session_start"},
    {"event": "user", "text": "/request_human", "metadata": {"display_text": "Talk to a person"}},
    {"event": "action", "name": "action_handoff"},
    {
        "event": "bot",
        "text": "Anything else?",
        "data": {"buttons": [{"title": "Yes", "payload": "/affirm"}]},
    },
    {"event": "action", "name": "action_listen"},
    {"event": "pause"},
    {"event": "user", "text": "hello?", "metadata": {"qc_handoff_case": "CS-123456"}},
    {
        "event": "bot",
        "text": "Sam joined",
        "metadata": {"qc_event": "agent_joined", "agent_name": "Sam"},
    },
    {"event": "bot", "text": "Hi, Sam here", "metadata": {"qc_from": "agent", "agent_name": "Sam"}},
    {"event": "bot", "text": "Pick one", "data": {"buttons": [{"title": "A", "payload": "/a"}]}},
]


def test_buttons_and_quick_replies_become_clickable_choices() -> None:
    view = customer_view({"text": "Which?", "quick_replies": [{"title": "Email"}]}, "bot")
    assert view == {
        "type": "message",
        "from": "bot",
        "text": "Which?",
        "buttons": [{"title": "Email", "payload": "Email"}],
    }


def test_customer_transcript_names_agents_and_keeps_only_the_last_buttons() -> None:
    lines = transcript(EVENTS, for_agent=False)
    assert [(line["from"], line["text"]) for line in lines] == [
        ("user", "Talk to a person"),  # a clicked button shows its title, not the payload
        ("bot", "Anything else?"),
        ("user", "hello?"),
        ("system", "Sam joined"),
        ("agent", "Hi, Sam here"),
        ("bot", "Pick one"),
    ]
    assert lines[4]["agent_name"] == "Sam"
    assert "buttons" not in lines[1] and lines[-1]["buttons"] == [{"title": "A", "payload": "/a"}]


def test_agent_transcript_also_shows_what_the_bot_did() -> None:
    lines = transcript(EVENTS, for_agent=True)
    assert {"type": "action", "from": "action", "text": "action_handoff", "ts": None} in lines
    assert not any(line["text"] in ("action_listen", "action_session_start") for line in lines)


def test_conversation_ids_come_from_unguessable_session_tokens() -> None:
    token = "x" * 43
    assert SESSION_TOKEN.fullmatch(token)
    assert conversation_for(token).startswith("web-") and token not in conversation_for(token)
    assert conversation_for(token) != conversation_for("y" * 43)
    assert not SESSION_TOKEN.fullmatch("short")


def test_both_sockets_read_only_json_objects_from_a_frame() -> None:
    assert json_object('{"type": "ping"}') == {"type": "ping"}
    assert json_object(b'{"type": "typing", "on": true}') == {"type": "typing", "on": True}
    # Anything else is ignored by the sockets, never an error that closes them.
    for other in ("not json", "[1, 2]", '"text"', "null", b"\xff\xfe"):
        assert json_object(other) is None
