#!/usr/bin/env bash
# Cluster load benchmark (issue 11): N pion publishers recording VP8 + Opus
# through one single-node server on the local disk (bbolt catalog), then N
# publishers spread over three `mediarecorder serve` nodes recording into
# SeaweedFS with a shared PostgreSQL catalog, in one run. Reports, for both:
# server CPU per recording (all server processes, CPU seconds per second of
# recording), resident memory growth per recording, the recorded (uploaded)
# throughput, the time from POST .../stop to the finished file or object
# (the stop call returns when it is finished; the nodes' logs give the
# commit alone), and for the cluster the failover time: one node killed with
# SIGKILL mid-recording until every one of its recordings is finished by
# another node.
#
# Usage: bench/cluster-load.sh [-n N] [-seconds S] [-flush D]
#   -flush: the nodes' -flush-interval (default 1s in a cluster; -1s: none)
# Needs PostgreSQL (scripts/setup-postgres.sh) and SeaweedFS
# (scripts/setup-seaweedfs.sh). The driver is bench/clusterload (a Go test,
# to reuse internal/pgtest and internal/s3test). The report also goes to
# bench/.data/cluster-load/report-<time>.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
n=12
seconds=30
flush=0s
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2 ;;
    -seconds) seconds=$2; shift 2 ;;
    -flush) flush=$2; shift 2 ;;
    *) sed -n '/^# Usage/,/^# bench/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
done
out=bench/.data/cluster-load
mkdir -p "$out"
report="$PWD/$out/report-$(date -u +%Y%m%dT%H%M%S).txt"
CLUSTERLOAD=1 go test -count=1 -v -timeout 60m -run '^TestClusterLoad$' ./bench/clusterload \
  -args -n "$n" -seconds "$seconds" -flush "$flush" -out "$report" | grep -v '^=== RUN'
echo "report: $report"
