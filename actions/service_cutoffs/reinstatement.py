"""The guide's solution for a violation of terms: a reinstatement review by a person.

The violated term and the steps to fix it are told with the report (`diagnosis`), where the
review is proposed; this is what the customer hears once they have said yes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actions.changes import describe_confirmation
from actions.service_cutoffs.common import contact_text
from quickconnect.services import service_cutoffs as cutoffs
from quickconnect.services.identity import VerifiedCustomer
from quickconnect.services.service_cutoffs import format_time


@describe_confirmation(cutoffs.REINSTATEMENT_KIND)
def _review_requested(result: dict[str, Any], customer: VerifiedCustomer) -> str:
    follow = datetime.fromisoformat(str(result["follow_up_at"]))
    case = result["case_number"]
    if result.get("agents_online"):
        who = (
            f"A member of our team will pick it up shortly (expected wait: about "
            f"{result.get('expected_wait_minutes') or 5} minutes)."
        )
    else:
        who = "No one from our team is online right now; they'll pick it up first thing."
    return (
        f"Thank you. I've opened case {case} for our team to review your account for "
        f"reinstatement. {who} After the review, your service is restored within 24 hours.\n"
        f"I'll check in with you {contact_text(customer, result.get('follow_up_channel'))} "
        f"around {format_time(follow)}, and you can ask me about {case} at any time."
    )
