#!/usr/bin/env bash
# Builds the MHP OCI image without a container engine (umoci + skopeo), the same minimal image
# as deploy/docker/Dockerfile: only the `mhp` binary, the shared libraries it links and the
# dynamic loader, CA certificates, /etc/passwd and /etc/group with the user mhp (10001), and an
# empty /data owned by that user. No shell, no package manager.
#
#   scripts/build-image.sh           build target/image/oci (tag mhp:<version>) and the SBOM
#   scripts/build-image.sh --test    also unpack the image and run the binary from its root file
#                                    system as uid 10001 (read-only root where the kernel lets us
#                                    mount), wait for /readyz = 200, run `mhp healthcheck`
#                                    inside it, then SIGTERM and expect a clean exit
#
# Uses target/release/mhp, building it (cargo build --release --locked -p mhp-cli --features aws,vault,onnx,otel) if absent;
# MHP_IMAGE_BIN names another build of the binary (the test script packs the debug build its tests
# made, so CI does not spend ten minutes on a release build only to check the image's layout).
# Writes: target/image/oci/ (OCI layout), target/image/mhp.sbom.cdx.json (CycloneDX),
# target/image/mhp.tar (docker-archive, for `docker load`), target/image/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

TEST=0
for a in "$@"; do
  case "$a" in
    --test) TEST=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build-image: unknown argument $a" >&2; exit 2 ;;
  esac
done

OUT="$ROOT/target/image"
BIN="${MHP_IMAGE_BIN:-$ROOT/target/release/mhp}"
UID_MHP=10001

need_tools() {
  local missing=()
  for t in umoci skopeo; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-image: installing ${missing[*]} from Debian"
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "build-image: needs ${missing[*]} (Debian: apt-get install umoci skopeo)" >&2
    exit 1
  fi
}
need_tools

if [ ! -x "$BIN" ]; then
  echo "build-image: $BIN missing; cargo build --release --locked -p mhp-cli --features aws,vault,onnx,otel"
  cargo build --release --locked -p mhp-cli --features aws,vault,onnx,otel
fi

VERSION=$("$BIN" --version | awk '{print $2}')
REVISION=$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unknown)
# Reproducible timestamps: the commit time, unless given.
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || echo 0)}
export SOURCE_DATE_EPOCH
CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
TAG="$VERSION"

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT"
mkdir -p "$OUT"

# --- root file system ----------------------------------------------------------------------------
RFS="$WORK/rootfs"
mkdir -p "$RFS/usr/local/bin" "$RFS/etc/ssl/certs" "$RFS/data" "$RFS/tmp"
install -m 0755 "$BIN" "$RFS/usr/local/bin/mhp"

# Shared libraries and the loader, each at the path the binary asks for (dereferenced).
copy_lib() {
  local path=$1
  mkdir -p "$RFS$(dirname "$path")"
  cp -L "$path" "$RFS$path"
  chmod 0755 "$RFS$path"
}
while read -r line; do
  case "$line" in
    *"=> /"*) copy_lib "$(echo "$line" | awk '{print $3}')" ;;
    /*) copy_lib "$(echo "$line" | awk '{print $1}')" ;;
  esac
done < <(ldd "$BIN")
# The loader's canonical path (/lib64 on x86_64) may be a symlink on the host; keep both names.
INTERP=$(readelf -l "$BIN" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[ -e "$RFS$INTERP" ] || copy_lib "$INTERP"

cp -L /etc/ssl/certs/ca-certificates.crt "$RFS/etc/ssl/certs/ca-certificates.crt"
printf 'root:x:0:0:root:/root:/sbin/nologin\nmhp:x:%d:%d:mhp:/data:/sbin/nologin\n' $UID_MHP $UID_MHP >"$RFS/etc/passwd"
printf 'root:x:0:\nmhp:x:%d:\n' $UID_MHP >"$RFS/etc/group"
chmod 0644 "$RFS/etc/passwd" "$RFS/etc/group" "$RFS/etc/ssl/certs/ca-certificates.crt"
chown -R 0:0 "$RFS"
chown $UID_MHP:$UID_MHP "$RFS/data"
chmod 0700 "$RFS/data"
chmod 1777 "$RFS/tmp"
find "$RFS" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# --- OCI image -----------------------------------------------------------------------------------
LAYOUT="$OUT/oci"
umoci init --layout "$LAYOUT"
umoci new --image "$LAYOUT:$TAG"
umoci unpack --image "$LAYOUT:$TAG" "$WORK/bundle" >/dev/null
rm -rf "$WORK/bundle/rootfs"
mv "$RFS" "$WORK/bundle/rootfs"
umoci repack --image "$LAYOUT:$TAG" --history.created "$CREATED" \
  --history.created_by "scripts/build-image.sh (rootfs: mhp, its shared libraries, CA certificates)" \
  "$WORK/bundle"
umoci config --image "$LAYOUT:$TAG" \
  --created "$CREATED" \
  --architecture amd64 --os linux \
  --config.user "$UID_MHP:$UID_MHP" \
  --config.entrypoint /usr/local/bin/mhp \
  --config.cmd serve \
  --config.workingdir /data \
  --config.volume /data \
  --config.exposedports 8080/tcp \
  --config.env MHP_LISTEN=0.0.0.0:8080 \
  --config.env MHP_DATA_DIR=/data \
  --config.env MHP_LOG_FORMAT=json \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.label org.opencontainers.image.title=mhp \
  --config.label "org.opencontainers.image.description=Movement Health Platform" \
  --config.label "org.opencontainers.image.version=$VERSION" \
  --config.label "org.opencontainers.image.revision=$REVISION" \
  --config.label "org.opencontainers.image.created=$CREATED" \
  --config.label "org.opencontainers.image.source=https://github.com/mhp-org/mhp" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --history.created "$CREATED" --history.created_by "scripts/build-image.sh (config)"
umoci gc --layout "$LAYOUT"

# skopeo reads the layout back (a second, independent parser) and gives the manifest digest.
INSPECT=$(skopeo inspect "oci:$LAYOUT:$TAG")
DIGEST=$(skopeo inspect --format '{{.Digest}}' "oci:$LAYOUT:$TAG")
skopeo copy --quiet "oci:$LAYOUT:$TAG" "docker-archive:$OUT/mhp.tar:mhp:$TAG"

# --- SBOM ----------------------------------------------------------------------------------------
umoci unpack --image "$LAYOUT:$TAG" "$WORK/check" >/dev/null
python3 "$ROOT/deploy/image/sbom.py" --rootfs "$WORK/check/rootfs" --out "$OUT/mhp.sbom.cdx.json" \
  --manifest-path "$ROOT/Cargo.toml" --image-name mhp --image-digest "$DIGEST"

# --- what went in --------------------------------------------------------------------------------
layer_bytes=$(python3 - "$LAYOUT" <<'PY'
import json, os, sys
layout = sys.argv[1]
idx = json.load(open(os.path.join(layout, "index.json")))
man = json.load(open(os.path.join(layout, "blobs", *idx["manifests"][0]["digest"].split(":"))))
print(sum(l["size"] for l in man["layers"]))
PY
)
rootfs_bytes=$(du -sb "$WORK/check/rootfs" | cut -f1)
sbom_bytes=$(stat -c %s "$OUT/mhp.sbom.cdx.json")
{
  echo "image:        oci:target/image/oci:$TAG"
  echo "digest:       $DIGEST"
  echo "layer (gzip): $layer_bytes bytes ($((layer_bytes / 1024 / 1024)) MiB)"
  echo "unpacked:     $rootfs_bytes bytes ($((rootfs_bytes / 1024 / 1024)) MiB)"
  echo "sbom:         target/image/mhp.sbom.cdx.json, $sbom_bytes bytes ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$OUT/mhp.sbom.cdx.json") components)"
  echo "files:"
  (cd "$WORK/check/rootfs" && find . -not -type d | sort | sed 's/^\./  /')
} | tee "$OUT/summary.txt"

# --- image checks and run test -----------------------------------------------------------------
if [ $TEST -eq 1 ]; then
  R="$WORK/check/rootfs"
  fail() { echo "build-image --test: FAIL: $*" >&2; exit 1; }

  for sh in bin/sh bin/bash usr/bin/sh usr/bin/apt usr/bin/dpkg usr/bin/curl; do
    [ ! -e "$R/$sh" ] || fail "image contains /$sh"
  done
  [ "$(stat -c %u:%g "$R/data")" = "$UID_MHP:$UID_MHP" ] || fail "/data is not owned by $UID_MHP"
  [ "$(stat -c %u "$R/usr/local/bin/mhp")" = 0 ] || fail "the binary must be owned by root"
  [ "$(stat -c %a "$R/usr/local/bin/mhp")" = 755 ] || fail "the binary must not be writable by the user"
  cfg=$(echo "$INSPECT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Labels"]["org.opencontainers.image.version"])')
  [ "$cfg" = "$VERSION" ] || fail "version label"
  python3 - "$LAYOUT" <<'PY' || fail "image config"
import json, os, sys
layout = sys.argv[1]
idx = json.load(open(os.path.join(layout, "index.json")))
blob = lambda d: json.load(open(os.path.join(layout, "blobs", *d.split(":"))))
man = blob(idx["manifests"][0]["digest"])
cfg = blob(man["config"]["digest"])["config"]
assert cfg["User"] == "10001:10001", cfg["User"]
assert cfg["Entrypoint"] == ["/usr/local/bin/mhp"], cfg["Entrypoint"]
assert cfg["Cmd"] == ["serve"], cfg["Cmd"]
assert list(cfg["ExposedPorts"]) == ["8080/tcp"], cfg["ExposedPorts"]
assert "MHP_LISTEN=0.0.0.0:8080" in cfg["Env"]
PY
  python3 - "$OUT/mhp.sbom.cdx.json" <<'PY' || fail "SBOM"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["bomFormat"] == "CycloneDX" and b["specVersion"] == "1.5"
names = {c["name"] for c in b["components"]}
for must in ("tokio", "axum", "sqlx-core", "libc6", "ca-certificates"):
    assert must in names, must
assert all(c.get("purl") for c in b["components"])
PY

  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  LOG="$OUT/run-test.log"
  # The image has no env(1): the environment is set before chroot.
  ENV_RUN=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin MHP_LISTEN="127.0.0.1:$PORT" MHP_DATA_DIR=/data
           MHP_LOG_FORMAT=json SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt)
  # Read-only root with a writable /data (as ECS runs it), if this kernel lets us make a mount
  # namespace; otherwise a plain chroot, and the summary says so.
  MODE="chroot, read-only root file system, tmpfs /data"
  if unshare --mount --propagation private true 2>/dev/null; then
    # shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments
    "${ENV_RUN[@]}" unshare --mount --propagation private -- sh -c '
      set -e
      root=$1 uid=$2; shift 2
      mount --bind "$root" "$root"
      mount -o remount,bind,ro "$root"
      mount -t tmpfs -o "mode=0700,uid=$uid,gid=$uid" tmpfs "$root/data"
      exec chroot --userspec="$uid:$uid" "$root" "$@"
    ' sh "$R" "$UID_MHP" /usr/local/bin/mhp serve >"$LOG" 2>&1 &
  else
    MODE="chroot (no mount namespace here: root file system writable)"
    "${ENV_RUN[@]}" chroot --userspec=$UID_MHP:$UID_MHP "$R" /usr/local/bin/mhp serve >"$LOG" 2>&1 &
  fi
  PID=$!
  ready=0
  for _ in $(seq 1 100); do
    if python3 -c 'import sys,urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=1).status == 200 else 1)' \
         "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then
      ready=1; break
    fi
    kill -0 $PID 2>/dev/null || break
    sleep 0.2
  done
  if [ $ready -ne 1 ]; then
    kill -TERM $PID 2>/dev/null || true
    cat "$LOG" >&2
    fail "/readyz never answered 200"
  fi
  # The image's health check command, from inside the image.
  "${ENV_RUN[@]}" chroot --userspec=$UID_MHP:$UID_MHP "$R" /usr/local/bin/mhp healthcheck --url "http://127.0.0.1:$PORT/readyz" \
    || fail "mhp healthcheck inside the image"
  kill -TERM $PID
  rc=0; wait $PID || rc=$?
  [ $rc -eq 0 ] || { cat "$LOG" >&2; fail "mhp serve exited $rc after SIGTERM"; }
  python3 - "$LOG" <<'PY' || fail "log lines are not JSON"
import json, sys
lines = [l for l in open(sys.argv[1]) if l.strip()]
assert lines, "no log"
for l in lines:
    json.loads(l)
PY
  echo "run test:     passed ($MODE): /readyz 200 as uid $UID_MHP, healthcheck ok, clean exit on SIGTERM" | tee -a "$OUT/summary.txt"
fi
