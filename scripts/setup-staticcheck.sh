#!/usr/bin/env bash
# Prints the path of staticcheck (honnef.co/go/tools, a version that knows
# Go 1.26), installed with go install into the cache outside the repository
# when it is missing.
set -euo pipefail
version=v0.8.2
bin="${XDG_CACHE_HOME:-$HOME/.cache}/mediarecorder/staticcheck-$version"
if [ ! -x "$bin/staticcheck" ]; then
  mkdir -p "$bin"
  GOBIN="$bin" go install "honnef.co/go/tools/cmd/staticcheck@$version" >&2
fi
echo "$bin/staticcheck"
