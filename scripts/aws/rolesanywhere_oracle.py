#!/usr/bin/env python3
"""IAM Roles Anywhere signing oracle: signs CreateSession requests with the PyPI package
`iam-rolesanywhere-session` (its IAMRolesAnywhereSigner, on botocore's SigV4Auth) and a frozen clock, for the
differential test of our SigV4X509Signer.

Reads JSON on stdin:
  {"requests": [{"method": "POST", "url": "https://host/sessions?profileArn=...",
                 "headers": [["Content-Type", "application/json"], ...],
                 "body": "utf-8 text",
                 "certificate": "/path/leaf.pem", "chain": "/path/intermediates.pem" or null,
                 "private_key": "/path/key.pem", "region": "us-east-1", "amz_date": "20260102T030405Z"}, ...]}
Writes JSON on stdout:
  {"version": "...", "results": [{"canonical_request", "string_to_sign", "signature", "authorization",
                                  "headers": [[name, value], ...]}, ...]}

The package sets Content-Type to application/x-amz-json-1.0 on every request it signs; the request given here
is signed as given (the Content-Type of the spec is put back), so both sides sign the same request.
"""
import datetime
import os
import sys
from importlib import metadata

from botocore.awsrequest import AWSRequest
from iam_rolesanywhere_session import iam_rolesanywhere_session as ras

sys.path.insert(0, os.path.dirname(__file__))
from _tooling import recorded, sign_each  # noqa: E402


class RecordingSigner(ras.IAMRolesAnywhereSigner):
    """The package's signer, keeping what add_auth computed, with the request's own Content-Type."""

    content_type = None

    def _modify_request_before_signing(self, request):
        super()._modify_request_before_signing(request)
        if self.content_type is not None:
            ras._set_header(request, "Content-Type", self.content_type)

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign

    def signature(self, string_to_sign, _=None):
        self.recorded_signature = super().signature(string_to_sign)
        return self.recorded_signature


def frozen_datetime(when):
    class Frozen(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return when if tz is None else when.astimezone(tz)

    return Frozen


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sign(spec):
    when = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    ras.datetime = frozen_datetime(when)
    signer = RecordingSigner(
        certificate=read(spec["certificate"]),
        private_key=read(spec["private_key"]),
        certificate_chain=read(spec["chain"]) if spec.get("chain") else None,
        region=spec["region"],
    )
    request = AWSRequest(method=spec["method"], url=spec["url"], data=spec.get("body", "").encode("utf-8"))
    for name, value in spec.get("headers", []):
        if name.lower() == "content-type":
            signer.content_type = value
        request.headers[name] = value
    signer.add_auth(request)
    return recorded(signer, request)


def main():
    sign_each(sign, "version", metadata.version("iam-rolesanywhere-session"))


if __name__ == "__main__":
    main()
