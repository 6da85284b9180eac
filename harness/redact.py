"""Credentials never reach output: error texts from AWS are scrubbed before they are reported, logged or written.

DynamoDB's InvalidSignatureException quotes the canonical request it expected, signed headers
included, so a session token (`x-amz-security-token`) can come back inside an error message, and
from there reach Locust's failure table, its CSV files and the report. `redact` removes that
header's value, SigV4 `Credential=` and `Signature=` values, access key ids (AKIA.../ASIA...), and
any credential value this process has in its environment.
"""

from __future__ import annotations

import os
import re

from botocore.exceptions import ClientError

REDACTED = "<redacted>"
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")
MIN_SECRET_LENGTH = 8  # shorter values (DynamoDB Local's dummy "local") would scrub ordinary words
# Each pattern keeps group 1 (the label) and replaces what follows it.
PATTERNS = (
    re.compile(r"(?i)(x-amz-security-token\s*[:=]\s*)[^\s'\"&,;]+"),
    re.compile(r"(?i)((?:aws_)?(?:secret_access_key|session_token|security_token)\s*[:=]\s*)[^\s'\"&,;]+"),
    re.compile(r"(Credential=)[^\s,/]+"),
    re.compile(r"(Signature=)[0-9a-fA-F]+"),
    re.compile(r"()\b(?:AKIA|ASIA)[A-Z0-9]{12,}\b"),
)


def redact(text: str) -> str:
    """`text` without credential values: the environment's, and whatever looks like a token, key id or signature."""
    for name in CREDENTIAL_VARIABLES:
        value = os.environ.get(name, "")
        if len(value) >= MIN_SECRET_LENGTH:
            text = text.replace(value, REDACTED)
    for pattern in PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def aws_error_line(exc: Exception) -> str:
    """One scrubbed line for an AWS error nothing else handled: a ClientError's first line, else the
    botocore error's type and text."""
    if isinstance(exc, ClientError):
        return redact(f"{exc}".splitlines()[0])
    return redact(f"{type(exc).__name__}: {exc}")
