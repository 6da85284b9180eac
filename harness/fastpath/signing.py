"""SigV4 for DynamoDB's JSON protocol, byte for byte what botocore.auth.SigV4Auth computes.

botocore derives the signing key (four HMACs) on every request; the key only changes with the
date, the region, the service and the secret, so it is derived once per day here.
"""

from __future__ import annotations

import hmac
import time
from hashlib import sha256

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"  # botocore.auth.SIGV4_TIMESTAMP
CONTENT_TYPE = "application/x-amz-json-1.0"
SERVICE = "dynamodb"


def amz_date(epoch_seconds: int) -> str:
    """The X-Amz-Date value for a UNIX time (whole seconds, UTC)."""
    return time.strftime(AMZ_DATE_FORMAT, time.gmtime(epoch_seconds))


class SigV4Signer:
    """Signs POST / requests of one region; the derived key is cached per (secret, date)."""

    def __init__(self, region: str, service: str = SERVICE):
        self.region = region
        self.service = service
        self._scope_suffix = f"/{region}/{service}/aws4_request"
        self._key_for: tuple[str, str] | None = None
        self._key = b""

    def signing_key(self, secret_key: str, datestamp: str) -> bytes:
        """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")."""
        if self._key_for != (secret_key, datestamp):
            key = _hmac(f"AWS4{secret_key}".encode(), datestamp)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            self._key, self._key_for = key, (secret_key, datestamp)
        return self._key

    def authorization(self, credentials, host: str, path: str, target: str, date: str, body: bytes) -> str:
        """The Authorization header for a DynamoDB JSON request signed at `date` (X-Amz-Date form).

        The signed headers are the ones botocore signs for this protocol: content-type, host,
        x-amz-date, x-amz-security-token (with session credentials) and x-amz-target; the
        payload hash is always the body's SHA-256 (DynamoDB never uses UNSIGNED-PAYLOAD).
        """
        token = credentials.token
        if token:
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{date}\n"
                f"x-amz-security-token:{_trimall(token)}\nx-amz-target:{target}\n"
            )
            signed_headers = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        else:
            canonical_headers = f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{date}\nx-amz-target:{target}\n"
            signed_headers = "content-type;host;x-amz-date;x-amz-target"
        canonical_request = f"POST\n{path}\n\n{canonical_headers}\n{signed_headers}\n{sha256(body).hexdigest()}"
        datestamp = date[:8]
        scope = datestamp + self._scope_suffix
        string_to_sign = f"{ALGORITHM}\n{date}\n{scope}\n{sha256(canonical_request.encode()).hexdigest()}"
        signature = hmac.digest(self.signing_key(credentials.secret_key, datestamp), string_to_sign.encode(), "sha256").hex()
        return f"{ALGORITHM} Credential={credentials.access_key}/{scope}, SignedHeaders={signed_headers}, Signature={signature}"


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode(), "sha256")


def _trimall(value: str) -> str:
    """SigV4's Trimall: surrounding whitespace removed, inner runs collapsed (as botocore does)."""
    return " ".join(value.split())
