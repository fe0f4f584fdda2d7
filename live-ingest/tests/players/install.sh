#!/usr/bin/env bash
# install.sh [DIR=/opt/peers/players]: installs the players of package-lock.json (Shaka Player,
# video.js, hls.js, puppeteer-core) into DIR/node_modules with `npm ci`, outside the repo.
# Idempotent: does nothing when DIR already holds this exact lock file's install.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${PLAYERS_DIR:-/opt/peers/players}}
mkdir -p "$dir"
if [ -d "$dir/node_modules" ] && cmp -s "$here/package-lock.json" "$dir/installed-lock.json"; then
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
# --ignore-scripts: no install script runs (puppeteer-core downloads no browser anyway).
(cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
cp "$here/package-lock.json" "$dir/installed-lock.json"
