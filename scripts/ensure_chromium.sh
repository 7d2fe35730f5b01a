#!/usr/bin/env bash
# The audit report test renders the HTML report in headless Chromium (Debian's `chromium`).
# Install it when it is missing and we may (root + apt-get, as on CI machines); otherwise say
# why, and that test skips with the same reason. Never fails the build.
set -u
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: chromium not installed and cannot install it (needs root + apt-get); the report render test will skip" >&2
  exit 0
fi
echo "ensure_chromium: installing Debian's chromium for the report render test" >&2
export DEBIAN_FRONTEND=noninteractive
(apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
  || echo "ensure_chromium: apt-get could not install chromium; the report render test will skip" >&2
exit 0
