#!/bin/sh
# Installs Debian's chromium for the headless HTML report test (playwright-core
# drives it via executablePath). Idempotent: does nothing when it is present.
set -eu
if [ -x /usr/bin/chromium ]; then
  echo "chromium already installed at /usr/bin/chromium"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
test -x /usr/bin/chromium && echo "chromium installed at /usr/bin/chromium"
