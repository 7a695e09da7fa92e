#!/usr/bin/env bash
# FactoryGateway's test command, the one CI runs (.ci/run) and the README names.
# On a fresh Debian/Ubuntu machine it installs what is missing (InfluxDB, mosquitto, Node.js, the npm
# peers), builds with warnings as errors, checks formatting, and runs every test against real servers.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
started=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]; }

step "prerequisites"
if ! have dotnet; then
  echo "The .NET 10 SDK is required (dotnet was not found): https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
  exit 1
fi
missing=()
have influxd || missing+=(influxdb)
have mosquitto || missing+=(mosquitto)
have mosquitto_pub || missing+=(mosquitto-clients)
have node || missing+=(nodejs)
have npm || missing+=(npm)
have curl || missing+=(curl)
if ((${#missing[@]})); then
  echo "installing with apt-get: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "present: influxd, mosquitto, mosquitto_pub, node, npm, curl"
fi

# The npm peers (node-opcua …) are reinstalled only when package-lock.json changed.
peers=tests/peers
stamp="$peers/node_modules/.fgw-package-lock.sha256"
want=$(sha256sum "$peers/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "npm ci in $peers"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" > "$stamp"
else
  echo "npm peers up to date"
fi

step "build (warnings are errors)"
dotnet build FactoryGateway.sln -c Release --nologo -v quiet -clp:NoSummary

step "format (dotnet format --verify-no-changes)"
dotnet format FactoryGateway.sln --verify-no-changes --no-restore -v quiet

step "tests"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# A test that hangs fails its run after the timeout instead of holding CI.
dotnet test FactoryGateway.sln -c Release --no-build --nologo --blame-hang-timeout 10m --blame-hang-dump-type none 2>&1 \
  | tee "$log" | grep -vE "Blame' message|No test is available|TestAdapterPath|test files matched|^Test run for|^\s*$"
rc=${PIPESTATUS[0]}
set -e

# Sum the per-assembly summaries ("Passed!  - Failed:     0, Passed:    19, ...").
sum() { grep -Eo "$1: +[0-9]+" "$log" | awk '{ n += $2 } END { print n + 0 }'; }
passed=$(sum Passed)
failed=$(sum Failed)
printf '\ntest.sh finished in %ds\n' $((SECONDS - started))
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
if [ "$rc" -ne 0 ] || [ "${passed:-0}" -eq 0 ]; then
  echo "test.sh: FAILED (dotnet test exit code $rc)" >&2
  exit 1
fi
