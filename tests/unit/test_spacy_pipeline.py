"""The project's spaCy pipeline: build it, load it from disk like Rasa does, check entities."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import spacy
import yaml

from quickconnect.catalog import ADDONS, PLANS, PROTECTION_TIERS
from quickconnect.nlp import build_pipeline, patterns

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def built_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_pipeline.build(tmp_path_factory.mktemp("spacy") / "qc_en_test")


@pytest.fixture(scope="module")
def nlp(built_path: Path) -> spacy.language.Language:
    return spacy.load(built_path)


def entities(nlp: spacy.language.Language, text: str) -> list[tuple[str, str]]:
    """(label, text) of the spec entities, i.e. without guard spans."""
    return [(e.label_, e.text) for e in nlp(text).ents if e.label_ in patterns.ENTITY_LABELS]


# (sentence, expected entities in order). Each case lists *all* spec entities expected.
CASES: list[tuple[str, list[tuple[str, str]]]] = [
    # --- identifiers: any case, dash optional, space allowed, punctuation around
    ("my account is qc482913", [("account_number", "qc482913")]),
    ("My account number is QC-482913.", [("account_number", "QC-482913")]),
    ("account: qc 482913", [("account_number", "qc 482913")]),
    ("it's Qc - 482913 i think", [("account_number", "Qc - 482913")]),
    ("(QC-482913)", [("account_number", "QC-482913")]),
    ("QC\u2013482913", [("account_number", "QC\u2013482913")]),
    ("my protection plan number is DP-300219", [("protection_plan_number", "DP-300219")]),
    ("dp300219", [("protection_plan_number", "dp300219")]),
    ("claim CL-558201 please", [("claim_number", "CL-558201")]),
    ("whats happening with cl 558201?", [("claim_number", "cl 558201")]),
    ("case cs204981", [("case_number", "cs204981")]),
    ("I have a case number CS-204981", [("case_number", "CS-204981")]),
    ("ticket TK-771203", [("ticket_number", "TK-771203")]),
    ("tk 771203 still open?", [("ticket_number", "tk 771203")]),
    (
        "account QC-482913, claim CL-558201 and plan dp 300219",
        [
            ("account_number", "QC-482913"),
            ("claim_number", "CL-558201"),
            ("protection_plan_number", "dp 300219"),
        ],
    ),
    # --- emails
    ("my email is alice@example.com", [("email", "alice@example.com")]),
    ("ALICE@Example.COM.", [("email", "ALICE@Example.COM")]),
    ("use bob.smith+x@mail.co.uk, thanks", [("email", "bob.smith+x@mail.co.uk")]),
    ("email: j_doe-99@sub.example.org", [("email", "j_doe-99@sub.example.org")]),
    # --- phone numbers
    ("my number is +1 555 010 0001", [("phone_number", "+1 555 010 0001")]),
    ("+1 555-010-0001", [("phone_number", "+1 555-010-0001")]),
    ("call me at 555-010-0001.", [("phone_number", "555-010-0001")]),
    ("(555) 010-0001", [("phone_number", "(555) 010-0001")]),
    ("(555)010-0001", [("phone_number", "(555)010-0001")]),
    ("5550100001", [("phone_number", "5550100001")]),
    ("+15550100001", [("phone_number", "+15550100001")]),
    ("555.010.0001", [("phone_number", "555.010.0001")]),
    ("555 010 0001 is the one on the account", [("phone_number", "555 010 0001")]),
    ("1-555-010-0001", [("phone_number", "1-555-010-0001")]),
    ("+1 (555) 010-0001", [("phone_number", "+1 (555) 010-0001")]),
    ("my uk number +44 20 7946 0958", [("phone_number", "+44 20 7946 0958")]),
    # --- amounts
    ("my last bill was $84.20", [("amount", "$84.20")]),
    ("$ 84.20", [("amount", "$ 84.20")]),
    ("it was 84.20", [("amount", "84.20")]),
    ("84.2 dollars", [("amount", "84.2 dollars")]),
    ("USD 84", [("amount", "USD 84")]),
    ("usd 84.20", [("amount", "usd 84.20")]),
    ("84.20 usd", [("amount", "84.20 usd")]),
    ("84$", [("amount", "84$")]),
    ("I paid 84 dollars and 20 cents", [("amount", "84 dollars and 20 cents")]),
    ("about fifty bucks", [("amount", "fifty bucks")]),
    ("I owe $1,234.50", [("amount", "$1,234.50")]),
    ("it's priced at $9.99/month", [("amount", "$9.99")]),
    # --- dates
    ("today", [("date", "today")]),
    ("can you do it tomorrow?", [("date", "tomorrow")]),
    ("it stopped working yesterday", [("date", "yesterday")]),
    ("apply it next monday", [("date", "next monday")]),
    ("on Friday", [("date", "Friday")]),
    ("on the 15th", [("date", "the 15th")]),
    ("the 1st of next month", [("date", "the 1st of next month")]),
    ("the first of next month", [("date", "the first of next month")]),
    ("March 3", [("date", "March 3")]),
    ("march 3rd, 2026 works", [("date", "march 3rd, 2026")]),
    ("3rd of March", [("date", "3rd of March")]),
    ("Dec. 1", [("date", "Dec. 1")]),
    ("3/14", [("date", "3/14")]),
    ("12/01/2026", [("date", "12/01/2026")]),
    ("2026-12-01", [("date", "2026-12-01")]),
    ("14.03.2026", [("date", "14.03.2026")]),
    ("last week", [("date", "last week")]),
    ("2 days ago", [("date", "2 days ago")]),
    ("two weeks ago", [("date", "two weeks ago")]),
    ("a couple of days ago", [("date", "a couple of days ago")]),
    ("in 3 days", [("date", "in 3 days")]),
    ("from the next billing cycle", [("date", "the next billing cycle")]),
    ("at the end of the month", [("date", "the end of the month")]),
    # --- devices
    ("my iphone screen cracked", [("device_type", "iphone")]),
    ("I dropped my phone", [("device_type", "phone")]),
    ("my smartphone", [("device_type", "smartphone")]),
    ("my iPad and my laptop", [("device_type", "iPad"), ("device_type", "laptop")]),
    ("my apple watch stopped working", [("device_type", "apple watch")]),
    ("my smart watch", [("device_type", "smart watch")]),
    ("I want to cover my watch", [("device_type", "watch")]),
    ("the router keeps dropping", [("device_type", "router")]),
    ("my wi-fi router", [("device_type", "wi-fi router")]),
    ("the tablet", [("device_type", "tablet")]),
    ("my cell phone got stolen", [("device_type", "cell phone")]),
    # --- plans and services (catalog names and aliases)
    ("the netflix thing", [("service_name", "the netflix thing")]),
    ("add StreamMax please", [("service_name", "StreamMax")]),
    ("I want intl calls added", [("service_name", "intl calls")]),
    ("cancel the cloud thing please", [("service_name", "the cloud thing")]),
    ("I'd like a data add-on", [("service_name", "data add-on")]),
    ("I'd like a data add on", [("service_name", "data add on")]),
    ("SecureNet", [("service_name", "SecureNet")]),
    ("tv sports pack", [("service_name", "tv sports pack")]),
    # subscriptions guide: loose wording for add-ons
    ("cancel my netflix thing", [("service_name", "netflix thing")]),
    ("please cancel the netflix thing", [("service_name", "the netflix thing")]),
    ("upgrade my intl calls to 500 minutes", [("service_name", "intl calls")]),
    ("add international minutes", [("service_name", "international minutes")]),
    ("remove the sports thing", [("service_name", "the sports thing")]),
    ("get rid of the antivirus thing", [("service_name", "the antivirus thing")]),
    ("switch my Cloud Vault to 1 TB", [("service_name", "Cloud Vault")]),
    ("add a data top-up", []),
    ("do I have streammax?", [("service_name", "streammax")]),
    ("switch me to the unlimited one", [("plan_name", "the unlimited one")]),
    ("I'm on Basic 5GB", [("plan_name", "Basic 5GB")]),
    ("I'm on basic 5 gb", [("plan_name", "basic 5 gb")]),
    ("move me to Everyday 20GB", [("plan_name", "Everyday 20GB")]),
    ("what about the family plan", [("plan_name", "family plan")]),
    ("Unlimited Plus", [("plan_name", "Unlimited Plus")]),
    ("upgrade to protect plus", [("plan_name", "protect plus")]),
    ("basic protection", [("plan_name", "basic protection")]),
    # --- several labels at once
    (
        "hi, QC-482913 here, my last bill was $84.20 and my email is alice@example.com",
        [("account_number", "QC-482913"), ("amount", "$84.20"), ("email", "alice@example.com")],
    ),
    (
        "add the netflix thing to my iphone from next monday",
        [("service_name", "the netflix thing"), ("device_type", "iphone"), ("date", "next monday")],
    ),
    (
        "qc 482913 5550100001",
        [("account_number", "qc 482913"), ("phone_number", "5550100001")],
    ),
    # --- things that are not entities
    ("I have 3 phones", [("device_type", "phones")]),
    ("I have 2 lines", []),
    ("it was in 2026", []),
    ("born in 1990", []),
    ("call 911", []),
    ("my zip is 10001", []),
    ("my pin is 1234", []),
    ("I'm 25 years old", []),
    ("I owe them about 300", []),
    ("482913", []),
    ("qc-48291", []),
    ("qc4829131", []),
    ("xqc482913", []),
    ("version 16.4.1", []),
    ("I used 12.50 GB", []),
    ("200 minutes", []),
    ("24/7 support", []),
    ("for the 2nd time", []),
    ("the first time I called", []),
    ("may I ask something", []),
    ("my phone number changed", []),
    ("can I pay by phone", []),
    ("I want to watch movies", []),
    ("mobile data is not working", []),
    ("does it include unlimited texts", []),
    ("my family is travelling", []),
    ("just a basic question", []),
    ("hello there", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_entities(nlp: spacy.language.Language, text: str, expected: list) -> None:
    assert entities(nlp, text) == expected


@pytest.mark.parametrize("text", ["my account is qc482913", "the netflix thing", "$84.20"])
def test_lowercased_text_gives_same_spans(nlp: spacy.language.Language, text: str) -> None:
    # Rasa's SpacyNLP feeds lower-cased text to the pipeline for tokens/features.
    upper, lower = nlp(text.upper()), nlp(text.lower())
    assert [(e.label_, e.start_char, e.end_char) for e in upper.ents] == [
        (e.label_, e.start_char, e.end_char) for e in lower.ents
    ]


def test_every_catalog_name_and_alias_is_recognised(nlp: spacy.language.Language) -> None:
    groups = [("plan_name", p.code, (p.name, *p.aliases)) for p in PLANS]
    groups += [("plan_name", t.code, (t.name, *t.aliases)) for t in PROTECTION_TIERS]
    groups += [("service_name", a.code, (a.name, *a.aliases)) for a in ADDONS]
    for label, code, phrases in groups:
        for phrase in phrases:
            doc = nlp(f"tell me about {phrase} please")
            assert [(e.label_, e.text, e.ent_id_) for e in doc.ents] == [(label, phrase, code)]
            assert patterns.catalog_code_for(label, phrase.upper()) == code


def test_catalog_code_for_unknown_value() -> None:
    assert patterns.catalog_code_for("plan_name", "gold plan") is None
    assert patterns.catalog_code_for("service_name", "data add on") == "DATABOOST"
    assert patterns.catalog_code_for("plan_name", "Protect Premium") == "PROTECT_PREMIUM"


def test_device_types_cover_catalog() -> None:
    from quickconnect.catalog import DEVICE_TYPES

    assert set(DEVICE_TYPES) <= set(patterns.DEVICE_PHRASES)


def test_device_ids_are_canonical(nlp: spacy.language.Language) -> None:
    doc = nlp("my iPad, my macbook, my apple watch, my modem and my cellphone")
    assert [e.ent_id_ for e in doc.ents] == ["tablet", "laptop", "smartwatch", "router", "phone"]


def test_device_type_for() -> None:
    assert patterns.device_type_for("iPhone") == "phone"
    assert patterns.device_type_for("Smart  Watch") == "smartwatch"
    assert patterns.device_type_for("modem") == "router"
    assert patterns.device_type_for("toaster") is None


def test_tokenizer_rules_are_saved(nlp: spacy.language.Language) -> None:
    assert [t.text for t in nlp("ALICE@Example.COM.")] == ["ALICE@Example.COM", "."]
    assert [t.text for t in nlp("555-010-0001")] == ["555-010-0001"]
    assert [t.text for t in nlp("84usd")] == ["84", "usd"]


def test_pipeline_is_blank_rules_only(nlp: spacy.language.Language) -> None:
    assert nlp.pipe_names == [build_pipeline.IDENTIFIER_RULER, build_pipeline.ENTITY_RULER]
    labels = set(nlp.get_pipe(build_pipeline.IDENTIFIER_RULER).labels)
    labels |= set(nlp.get_pipe(build_pipeline.ENTITY_RULER).labels)
    assert labels == set(patterns.ENTITY_LABELS) | {patterns.GUARD_LABEL}
    assert nlp.meta["version"] == f"{build_pipeline.PIPELINE_VERSION}.0.0"


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_build_is_deterministic_and_replaces_old_build(tmp_path: Path, built_path: Path) -> None:
    target = tmp_path / "qc_en_again"
    target.mkdir()
    (target / "config.cfg").write_text("stale")
    (target / "meta.json").write_text("{}")
    (target / "stale_component").mkdir()
    assert build_pipeline.build(target) == target
    assert not (target / "stale_component").exists()
    assert _tree_digest(target) == _tree_digest(built_path)


def test_build_refuses_to_replace_unrelated_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        build_pipeline.build(tmp_path)
    assert (tmp_path / "notes.txt").exists()


def test_pipeline_version_is_bumped_when_patterns_change() -> None:
    fingerprint = build_pipeline.compute_fingerprint()
    assert fingerprint == build_pipeline.PIPELINE_FINGERPRINT, (
        "The spaCy pipeline definition changed (patterns, tokenizer rules or catalog aliases). "
        "Rasa caches the pipeline by folder name, so: bump PIPELINE_VERSION, point SpacyNLP in "
        f"config.yml at the new folder, and set PIPELINE_FINGERPRINT = {fingerprint!r}."
    )


def test_config_uses_current_pipeline_folder() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text())
    spacy_nlp = next(c for c in config["pipeline"] if c["name"] == "SpacyNLP")
    assert spacy_nlp["model"] == f"spacy_models/{build_pipeline.model_folder_name()}"
    extractor = next(c for c in config["pipeline"] if c["name"] == "SpacyEntityExtractor")
    assert sorted(extractor["dimensions"]) == sorted(patterns.ENTITY_LABELS)


def test_default_output_folder_is_versioned() -> None:
    assert build_pipeline.DEFAULT_OUTPUT.name == f"qc_en_v{build_pipeline.PIPELINE_VERSION}"
    assert build_pipeline.DEFAULT_OUTPUT.parent.name == "spacy_models"
