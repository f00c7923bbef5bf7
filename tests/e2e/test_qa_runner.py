"""The conversation test runner end to end, on the real servers (SQLite and PostgreSQL).

One small file: a passing conversation with a database change, and a failing one whose
report must name the expectation and show the transcript. Running the passing conversation
twice shows that each run starts from the freshly seeded database.
"""

from __future__ import annotations

from pathlib import Path

from ops.stack import Stack
from qa.conversations import ConversationRunner, Vocabulary, load_all

CONVERSATIONS = """
conversations:
  - name: plan change applied
    turns:
      - user: "I want to switch to Unlimited Plus"
        bot:
          - action: verification_form
      - user: "QC-100005"
      - user: "Pamuk"
        bot:
          - text: "shall i go ahead?"
        slots:
          verification_status: verified
          awaiting_confirmation: true
      - user: "yes"
        bot:
          - action: action_confirm_change
        db:
          - sql: >-
              SELECT p.name FROM account_plans ap JOIN service_plans p ON p.id = ap.plan_id
              JOIN customers c ON c.id = ap.customer_id
              WHERE c.account_number = 'QC-100005' AND ap.status = 'active'
            rows: [["Unlimited Plus"]]
          - sql: "SELECT id FROM consent_records WHERE conversation_id = :conversation_id"
            count: 1

  - name: a wrong expectation
    turns:
      - user: "hello"
        bot:
          - action: utter_greet
      - user: "what plans do you offer?"
        bot:
          - text: "Platinum Galaxy plan"
"""


def test_runner_passes_resets_and_reports_failures(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "runner.yml"
    path.write_text(CONVERSATIONS)
    passing, failing = load_all([path], Vocabulary.from_domain())
    runner = ConversationRunner(
        stack.rasa_url, stack.settings.database_url, stack.settings.tracker_store_url
    )
    try:
        first = runner.run(passing)
        assert first.passed, first.report()
        again = runner.run(passing)  # QC-100005 is back on its seeded plan, so it passes again
        assert again.passed, again.report()

        outcome = runner.run(failing)
    finally:
        runner.close()
    assert not outcome.passed and outcome.failed_turn == 2
    report = outcome.report()
    assert "FAIL" in report and "a wrong expectation" in report
    assert "expected a bot message containing 'Platinum Galaxy plan'" in report
    assert "[1] user: hello" in report and "ran: utter_greet" in report
    assert "[2] user: what plans do you offer?" in report
    assert "Basic 5GB" in report  # the bot's actual answer is in the transcript
