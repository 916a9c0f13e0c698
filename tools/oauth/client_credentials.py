"""An OAuth 2.0 machine client for the tests (oauthlib and requests-oauthlib, not MHP's code).

    client_credentials.py BASE_URL CLIENT_ID CLIENT_SECRET PATH [basic|post]

Finds the token endpoint in BASE_URL's OpenID discovery document, asks it for a token with the
client credentials grant (the client authenticated with HTTP Basic, or in the body with
`post`), then GETs BASE_URL + PATH with the token. Prints one JSON object: the token response
(`token`) and the GET's status and body, or the OAuth error the library raised (`error`).
"""

import json
import sys

import requests
from oauthlib.oauth2 import BackendApplicationClient
from oauthlib.oauth2.rfc6749.errors import OAuth2Error
from requests_oauthlib import OAuth2Session

BASE, CLIENT_ID, SECRET, PATH = sys.argv[1:5]
METHOD = sys.argv[5] if len(sys.argv) > 5 else "basic"

discovery = requests.get(f"{BASE}/.well-known/openid-configuration", timeout=10).json()
token_url = discovery["token_endpoint"]
assert "client_credentials" in discovery["grant_types_supported"], discovery
session = OAuth2Session(client=BackendApplicationClient(client_id=CLIENT_ID))
out = {"token_endpoint": token_url}
try:
    if METHOD == "post":
        token = session.fetch_token(
            token_url, client_id=CLIENT_ID, client_secret=SECRET, include_client_id=True
        )
    else:
        token = session.fetch_token(
            token_url, auth=requests.auth.HTTPBasicAuth(CLIENT_ID, SECRET)
        )
    out["token"] = {k: v for k, v in token.items() if k != "expires_at"}
    res = session.get(f"{BASE}{PATH}", timeout=10)
    out["status"] = res.status_code
    out["body"] = res.json() if res.content else None
except OAuth2Error as e:
    out["error"] = e.error
    out["status_code"] = e.status_code
print(json.dumps(out))
