#!/usr/bin/env bash
# Install the Debian packages DataBridge needs when they are missing: libmariadb-dev and pkg-config (to build
# mysqlclient), curl and npm (the CouchDB-compatible test server installs with npm), chromium (the browser tests
# drive Debian's Chromium with Playwright; no browser is downloaded).
# Needs root (or password-less sudo); otherwise it only says what to install and leaves the failure to pip.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v mariadb_config >/dev/null || command -v mysql_config >/dev/null || missing+=(libmariadb-dev)
command -v curl >/dev/null || missing+=(curl)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium)
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "system_deps: missing ${missing[*]}; install them: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "system_deps: installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
