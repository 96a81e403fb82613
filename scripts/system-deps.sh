#!/usr/bin/env bash
# Debian packages the tests and `make run` need beyond Python and Node (installed only if
# missing; needs root, as on the CI machines). Add a package here rather than installing it by
# hand: CI starts from a fresh machine.
set -euo pipefail
PACKAGES=(curl nginx chromium)
missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi
