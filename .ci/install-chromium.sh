#!/usr/bin/env bash
# Install headless Chromium (and a font with Vietnamese glyphs) for the report's
# browser test (tests/report/test_render.py). Idempotent: does nothing when
# /usr/bin/chromium already runs. Debian/Ubuntu, as root (or with sudo).
set -euo pipefail

if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1 \
   && fc-list 2>/dev/null | grep -qi dejavu; then
  echo "install-chromium: $(/usr/bin/chromium --version 2>/dev/null) already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-chromium: must run as root (or have sudo)" >&2; exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
for attempt in 1 2 3; do
  if $SUDO apt-get update -qq && \
     $SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core fontconfig; then
    break
  fi
  if [ "$attempt" -eq 3 ]; then
    echo "install-chromium: apt-get failed 3 times" >&2; exit 1
  fi
  echo "install-chromium: apt-get failed (attempt $attempt), retrying in 10 s" >&2
  sleep 10
done

/usr/bin/chromium --version
