"""A syslog receiver over TLS (RFC 5425) for the tests.

    receive.py DIR [PORT]

Makes a certificate authority and a certificate for 127.0.0.1 with trustme the first time
(DIR/ca.pem, DIR/server.pem; later runs reuse them, so a restarted receiver is trusted
alike), listens on 127.0.0.1:PORT (0: any), reads octet-counted frames, parses each message
with syslog-rfc5424-parser (not MHP's code) and appends one JSON line per message to
DIR/messages.jsonl: the parsed fields, or the parse error with the raw text. Prints
`listening PORT` once it accepts connections.
"""

import json
import os
import socket
import ssl
import sys
import threading

from syslog_rfc5424_parser import SyslogMessage

DIR = sys.argv[1]
PORT = int(sys.argv[2]) if len(sys.argv) > 2 else 0
CA, SERVER = os.path.join(DIR, "ca.pem"), os.path.join(DIR, "server.pem")
OUT = os.path.join(DIR, "messages.jsonl")
LOCK = threading.Lock()

if not os.path.exists(SERVER):
    import trustme

    ca = trustme.CA()
    ca.cert_pem.write_to_path(CA)
    cert = ca.issue_cert("127.0.0.1")
    cert.private_key_and_cert_chain_pem.write_to_path(SERVER)

context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(SERVER)


def record(text):
    try:
        fields = SyslogMessage.parse(text).as_dict()
        fields["ok"] = True
    except Exception as e:  # the parser's refusal is the finding
        fields = {"ok": False, "error": str(e), "raw": text}
    with LOCK, open(OUT, "a", encoding="utf-8") as f:
        f.write(json.dumps(fields) + "\n")


def serve(conn):
    buf = b""
    with conn:
        while True:
            try:
                data = conn.recv(65536)
            except (ssl.SSLError, OSError):
                return
            if not data:
                return
            buf += data
            while True:
                space = buf.find(b" ")
                if space <= 0:
                    break
                length = int(buf[:space])
                if len(buf) < space + 1 + length:
                    break
                record(buf[space + 1 : space + 1 + length].decode("utf-8"))
                buf = buf[space + 1 + length :]


listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", PORT))
listener.listen(16)
print(f"listening {listener.getsockname()[1]}", flush=True)
while True:
    raw, _ = listener.accept()
    try:
        tls = context.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError):
        raw.close()
        continue
    threading.Thread(target=serve, args=(tls,), daemon=True).start()
