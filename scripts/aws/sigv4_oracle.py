#!/usr/bin/env python3
"""SigV4 oracle: signs requests with botocore's SigV4Auth and a frozen clock, for differential tests.

Reads JSON on stdin:
  {"requests": [{"method": "POST", "url": "https://host/path?query",
                 "params": [["k", "v"], ...],          # optional: raw query parameters (url then has no query)
                 "headers": [["Name", "value"], ...],  # repeated names allowed
                 "body_b64": "...",                    # or "body": "utf-8 text"
                 "access_key": "...", "secret_key": "...", "session_token": null,
                 "region": "us-east-1", "service": "ecr", "amz_date": "20150830T123600Z"}, ...]}
Writes JSON on stdout:
  {"botocore_version": "...", "results": [{"canonical_request": ..., "string_to_sign": ..., "signature": ...,
                                            "authorization": ..., "headers": [[name, value], ...]}, ...]}
"""
import base64
import datetime
import os
import sys

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, os.path.dirname(__file__))
from _tooling import recorded, sign_each  # noqa: E402


class RecordingSigV4Auth(botocore.auth.SigV4Auth):
    """SigV4Auth that keeps what add_auth computed (recomputing afterwards would sign the Authorization header)."""

    def canonical_request(self, request):
        self.recorded_canonical_request = super().canonical_request(request)
        return self.recorded_canonical_request

    def string_to_sign(self, request, canonical_request):
        self.recorded_string_to_sign = super().string_to_sign(request, canonical_request)
        return self.recorded_string_to_sign

    def signature(self, string_to_sign, request):
        self.recorded_signature = super().signature(string_to_sign, request)
        return self.recorded_signature


def sign(spec):
    when = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: when
    if "body_b64" in spec:
        body = base64.b64decode(spec["body_b64"])
    else:
        body = spec.get("body", "").encode("utf-8")
    params = [tuple(p) for p in spec["params"]] if spec.get("params") else None
    request = AWSRequest(method=spec["method"], url=spec["url"], data=body, params=params or {})
    for name, value in spec.get("headers", []):
        request.headers[name] = value  # HTTPMessage appends: repeated names are kept
    credentials = Credentials(spec["access_key"], spec["secret_key"], spec.get("session_token"))
    signer = RecordingSigV4Auth(credentials, spec["service"], spec["region"])
    signer.add_auth(request)
    return recorded(signer, request)


def main():
    sign_each(sign, "botocore_version", botocore.__version__)


if __name__ == "__main__":
    main()
