"""A webhook receiver for the tests: verifies every POST with the Standard Webhooks reference
library (standardwebhooks, not MHP's code) and writes one JSON line per attempt to the file
given: the message id, whether the signature verified, and the body.

    receive.py SECRET OUT_FILE [--refuse-first N]

The first N attempts are answered 503 (to make the sender retry); later ones 204, or 401 when
the signature does not verify. Prints `listening PORT` once it answers.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET, OUT = sys.argv[1], sys.argv[2]
REFUSE = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--refuse-first" else 0
HOOK = Webhook(SECRET)
SEEN = {"attempts": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            HOOK.verify(body, headers)
            verified = True
        except WebhookVerificationError as e:
            verified = str(e)
        SEEN["attempts"] += 1
        refused = SEEN["attempts"] <= REFUSE
        with open(OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps({
                "id": headers.get("webhook-id"),
                "verified": verified,
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
