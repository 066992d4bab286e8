#!/usr/bin/env bash
# Builds the SeaweedFS server (weed) that the S3 integration tests run
# (internal/s3test), when the cached binary is missing:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/mediarecorder/weed
# It comes from the Go module proxy, at a pinned version. Prints the
# binary's path. MEDIARECORDER_WEED, if set, names a binary to use instead.
set -euo pipefail

version=v0.0.0-20261109003541-7506e5f91cd6
cache="${XDG_CACHE_HOME:-$HOME/.cache}/mediarecorder"
bin="$cache/weed"

if [ -n "${MEDIARECORDER_WEED:-}" ]; then
  echo "$MEDIARECORDER_WEED"
  exit 0
fi
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi
mkdir -p "$cache"
echo "setup-seaweedfs.sh: building weed (github.com/seaweedfs/seaweedfs@$version), a few minutes" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A throwaway module so that the download does not touch the repository's go.mod.
(cd "$tmp" && go mod init weedbuild >/dev/null 2>&1)
dir=$(cd "$tmp" && go mod download -json "github.com/seaweedfs/seaweedfs@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  echo "setup-seaweedfs.sh: could not download seaweedfs $version" >&2
  exit 1
fi
(cd "$dir" && GOFLAGS=-mod=mod go build -o "$bin.tmp.$$" ./weed)
mv "$bin.tmp.$$" "$bin"
echo "$bin"
