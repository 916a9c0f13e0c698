"""A DNS server for tests (dnslib, an independent DNS implementation): answers TXT queries from
a JSON file of {name: [value, ...]} read afresh on every query, so a test publishes a record by
rewriting the file. Other names are NXDOMAIN. Serves UDP and TCP on 127.0.0.1 and prints
"listening PORT" once both are up.

    python serve.py RECORDS.json [PORT]
"""

import json
import sys
import time

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class FileResolver(BaseResolver):
    def __init__(self, path):
        self.path = path

    def records(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return {k.rstrip(".").lower(): v for k, v in json.load(f).items()}
        except FileNotFoundError:
            return {}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        records = self.records()
        if name not in records:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in records[name]:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=0))
        return reply


def main():
    path = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    resolver = FileResolver(path)
    quiet = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data")
    # UDP takes a free port and TCP the same number, which another process may hold over TCP
    # (tests run side by side): then try another port, a bounded number of times.
    for attempt in range(50):
        udp = DNSServer(resolver, address="127.0.0.1", port=port, logger=quiet)
        chosen = udp.server.server_address[1]
        try:
            tcp = DNSServer(resolver, address="127.0.0.1", port=chosen, tcp=True, logger=quiet)
        except OSError:
            udp.server.server_close()
            if port != 0 or attempt == 49:
                raise
            continue
        port = chosen
        break
    udp.start_thread()
    tcp.start_thread()
    print(f"listening {port}", flush=True)
    while udp.isAlive() and tcp.isAlive():
        time.sleep(0.5)


if __name__ == "__main__":
    main()
