"""moto_server whose ECR tokens expire as real ones do: 12 hours after they are issued.

moto answers GetAuthorizationToken with expiresAt = 2015-01-01, which would make every expiry metric and the
TokenExpiringSoon alert meaningless in the live Prometheus check. This wrapper sets expiresAt to now plus
MOTO_ECR_TOKEN_LIFETIME_SECONDS (default 43200) and otherwise runs moto_server unchanged (same arguments).
scripts/lib/moto.sh starts it instead of moto.server when MOTO_LAUNCHER names this file.
"""
import os
import sys
import time

from moto import server
from moto.ecr import responses

LIFETIME = float(os.environ.get("MOTO_ECR_TOKEN_LIFETIME_SECONDS", "43200"))
_original = responses.ECRResponse.get_authorization_token


def get_authorization_token(self):
    answer = _original(self)
    for item in answer.result["authorizationData"]:
        item["expiresAt"] = time.time() + LIFETIME
    return answer


responses.ECRResponse.get_authorization_token = get_authorization_token

if __name__ == "__main__":
    sys.exit(server.main())
