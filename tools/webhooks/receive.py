"""A webhook receiver for the tests: verifies every POST with the Standard Webhooks reference
library (standardwebhooks, not MHP's code) and writes one JSON line per attempt to the file
given: the message id, whether the signature verified, with which secrets, and the body.

    receive.py SECRETS OUT_FILE [--refuse-first N]

SECRETS is one `whsec_…` secret, several separated by commas, or `@FILE`: a file holding them
(comma-separated), read again at every request, for a secret the sender makes after the
receiver started. The first N attempts are answered 503 (to make the sender retry); later ones
204 when any secret verifies the signature, else 401. Prints `listening PORT` once it answers.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRETS, OUT = sys.argv[1], sys.argv[2]
REFUSE = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--refuse-first" else 0
SEEN = {"attempts": 0}


def secrets():
    text = SECRETS
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
    return [s.strip() for s in text.split(",") if s.strip()]


def verify(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
        return True
    except WebhookVerificationError as e:
        return str(e)


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        results = [verify(s, body, headers) for s in secrets()]
        verified = True if True in results else (results[0] if results else "no secret")
        SEEN["attempts"] += 1
        refused = SEEN["attempts"] <= REFUSE
        with open(OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "id": headers.get("webhook-id"),
                "verified": verified,
                "verified_by": [r is True for r in results],
                "signatures": len(headers.get("webhook-signature", "").split()),
                "refused": refused,
                "body": json.loads(body or b"null"),
            }) + "\n")
        self.send_response(503 if refused else 204 if verified is True else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
server.serve_forever()
