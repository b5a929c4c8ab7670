#!/usr/bin/env bash
# Installs what image-syncer needs and is missing: bun (via npm), Debian's docker-registry
# and skopeo (via apt-get; used by the demo and the tests; tmux renders the live view in a test), and the locked npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

BUN_VERSION=1.4.5
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

if ! command -v bun >/dev/null 2>&1 || [ "$(bun --version)" != "$BUN_VERSION" ]; then
  echo "installing bun $BUN_VERSION with npm" >&2
  $SUDO npm install -g "bun@$BUN_VERSION" >&2
fi

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
command -v perl >/dev/null 2>&1 || missing+=(perl)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} with apt-get" >&2
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >&2
fi

bun install --frozen-lockfile >&2
