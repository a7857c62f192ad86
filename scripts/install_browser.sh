#!/bin/sh
# Debian's Chromium for the staff page's browser tests (Playwright drives it; its own browser
# download cannot work here).  Idempotent: does nothing when /usr/bin/chromium is present.
set -eu
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
test -x /usr/bin/chromium
