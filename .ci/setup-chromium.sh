#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser test
# (console/browsertest), only when it is missing. Idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
