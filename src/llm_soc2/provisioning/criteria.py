"""The Trust Services Criteria (2017 TSC, revised points of focus 2022) the dashboards and alerts evidence.

Only the criteria this package's panels and rules cite, with a short paraphrase (not the AICPA text).
Every panel description and every alert names at least one of these ids.
"""

from __future__ import annotations

import re
from typing import Final

CRITERIA: Final[dict[str, str]] = {
    "CC2.1": "information quality: relevant, complete and accurate information supports internal control",
    "CC3.2": "risks to objectives are identified and analysed",
    "CC4.1": "ongoing evaluations ascertain whether controls are present and functioning",
    "CC6.1": "logical access security: credentials are identified, authenticated and managed",
    "CC6.2": "users and credentials are registered and removed under authorisation",
    "CC6.6": "threats from outside the system boundary are detected and blocked",
    "CC6.7": "data in transmission and movement to external parties is restricted and protected",
    "CC7.2": "system components are monitored for anomalies indicating malicious acts or errors",
    "CC7.3": "security events are evaluated to determine whether they are incidents",
    "CC7.4": "incidents are responded to with a defined programme",
    "CC8.1": "changes to infrastructure, software and configuration are authorised, tested and approved",
    "CC9.1": "risks of business disruption are identified and mitigated",
    "CC9.2": "risks from vendors and business partners are assessed and managed",
    "A1.1": "processing capacity and use are monitored to meet availability objectives",
    "A1.2": "environmental protections, backups and recovery infrastructure support availability",
    "C1.1": "confidential information is identified and protected",
    "C1.2": "confidential information is disposed of to meet objectives",
    "PI1.2": "inputs are complete and accurate",
    "PI1.3": "processing is complete, accurate and timely",
    "PI1.4": "outputs are complete, accurate and distributed only to intended parties",
    "PI1.5": "inputs, items in processing and outputs are stored completely and accurately",
    "P4.1": "personal information is used only for the purposes identified",
    "P4.2": "personal information is retained only as long as needed",
    "P4.3": "personal information is securely disposed of",
    "P6.1": "personal information is disclosed to third parties only for identified purposes",
    "P6.3": "unauthorised disclosures of personal information are recorded",
    "P6.7": "an accounting of disclosures of personal information is kept",
}

# The areas the overview dashboard has one status row for, in order.
AREAS: Final[dict[str, str]] = {
    "CC6": "Logical access",
    "CC7": "System operations",
    "CC8": "Change management",
    "CC9": "Risk mitigation",
    "A1": "Availability",
    "PI1": "Processing integrity",
    "C1": "Confidentiality",
    "P": "Privacy",
}

CRITERION_ID: Final = re.compile(r"\b(?:CC[1-9]\.[0-9]|A1\.[1-3]|C1\.[12]|PI1\.[1-5]|P[1-8]\.[1-7])\b")


def cited(text: str) -> list[str]:
    """The criterion ids a text names, in order of appearance."""
    return CRITERION_ID.findall(text)


def describe(criterion: str) -> str:
    """``"CC6.1 (logical access security: ...)"`` for a known id."""
    return f"{criterion} ({CRITERIA[criterion]})"
