#!/bin/sh
# Self-signed certificate for the local stack's proxy (never committed: certs/ is ignored).
set -eu
cd "$(dirname "$0")"
mkdir -p certs
openssl req -x509 -newkey rsa:3072 -nodes -days 30 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout certs/local.key -out certs/local.crt
chmod 0644 certs/local.key # read by nginx's unprivileged workers inside the container
