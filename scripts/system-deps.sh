#!/usr/bin/env bash
# Installs the Debian packages a purpose needs (test, bench), only those missing.
# Runs apt-get as root, or through sudo when there is one; prints what it does.
set -euo pipefail

declare -A NEED=(
  [test]="chromium mosquitto"   # mosquitto: tests/mqtt start their own broker on a free port
  [bench]="wrk"
  [page]="nodejs npm"   # builds the web page (frontend/); not needed to run roost
)

packages=()
for purpose in "$@"; do
  # Any Node.js with npm will do (nodesource's, nvm's, ...), not only Debian's.
  if [ "$purpose" = page ] && command -v node >/dev/null && command -v npm >/dev/null; then continue; fi
  for pkg in ${NEED[$purpose]:-}; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || packages+=("$pkg")
  done
done
[ ${#packages[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
  echo "system-deps: need root to install: ${packages[*]}" >&2; exit 1
fi
echo "system-deps: installing ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
