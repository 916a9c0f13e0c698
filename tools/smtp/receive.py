"""An SMTP server that requires STARTTLS, for the mail tests.

    receive.py DIR

Makes a certificate authority and a certificate for 127.0.0.1 and localhost with trustme
(DIR/ca.pem), listens on 127.0.0.1 (any port) with aiosmtpd, refuses mail before STARTTLS,
parses each message with Python's e-mail parser and appends one JSON line per message to
DIR/messages.jsonl: the envelope's sender and recipients, whether the session was under TLS,
and the From, To, Subject and plain-text body as parsed. Prints `listening PORT` once it
accepts connections.
"""

import asyncio
import email
import email.policy
import json
import os
import socket
import ssl
import sys

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

DIR = sys.argv[1]
OUT = os.path.join(DIR, "messages.jsonl")


class Keep:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "from": str(message["From"]),
            "to": str(message["To"]),
            "subject": str(message["Subject"]),
            "body": body.get_content() if body is not None else "",
        }
        with open(OUT, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        return "250 OK"


class Tls(Controller):
    def __init__(self, handler, context, **kwargs):
        self.context = context
        super().__init__(handler, **kwargs)

    def factory(self):
        return SMTP(self.handler, tls_context=self.context, require_starttls=True,
                    hostname="localhost")


def main():
    ca = trustme.CA()
    ca.cert_pem.write_to_path(os.path.join(DIR, "ca.pem"))
    cert = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    # aiosmtpd connects to its own port to see that it is up, so it needs the number first.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    controller = Tls(Keep(), context, hostname="127.0.0.1", port=port)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        asyncio.run(asyncio.Event().wait())
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
