#!/usr/bin/env bash
# The test command: installs the real peers the tests talk to (Debian
# packages) when they are missing, then runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v sipp >/dev/null     || need+=(sip-tester)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null      || need+=(sox)
command -v baresip >/dev/null  || need+=(baresip)
command -v openssl >/dev/null  || need+=(openssl)
# Speech recognition: the library and its US English model (the gateway
# opens them at run time; the speech tests skip without them).
[ -e /usr/share/pocketsphinx/model/en-us/en-us/mdef ] || need+=(pocketsphinx-en-us)
ls /usr/lib/*/libpocketsphinx.so.3 >/dev/null 2>&1 || need+=(pocketsphinx)
# PostgreSQL: the reporting store's tests start a throwaway cluster on
# loopback with these binaries (the system cluster is not used).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# The console's browser tests: Debian's Chromium, driven by playwright-core.
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null       || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# playwright-core from the committed lock file; never `playwright install`
# (the browser is Debian's).
[ -d e2e/console/node_modules/playwright-core ] || (cd e2e/console && npm ci --no-audit --no-fund)

# The tests read ../shared/testdata; say so plainly when it is missing.
[ -d ../shared/testdata ] || { echo "../shared/testdata is missing: clone the project beside shared/" >&2; exit 1; }

go vet ./...
# staticcheck, pinned: unused code, ineffective directives, simplifications.
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
go test -race -count=1 -timeout 15m ./... 2>&1 | tee /tmp/tandem-test.log
