#!/usr/bin/env bash
# The browser tests drive Debian's chromium. Install it when it is missing and we may (root with
# apt-get); otherwise say so: the browser tests are then skipped, unless ADVIES_REQUIRE_BROWSER is set.
set -uo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Chromium ontbreekt: installeren met apt-get (voor de browsertests)."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null && exit 0
fi
echo "Chromium niet beschikbaar: de browsertests worden overgeslagen. Installeer het pakket 'chromium'."
