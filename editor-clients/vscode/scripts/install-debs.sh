#!/usr/bin/env bash
# Debian packages the VS Code client's build and e2e test need: Chromium (driven headless by
# playwright-core), and what code-server's npm install compiles or unpacks (libkrb5-dev, pkg-config)
# plus ripgrep (packed for @vscode/ripgrep by fetch-ripgrep.sh). apt-get update only when missing.
set -euo pipefail
PKGS=(chromium libkrb5-dev pkg-config ripgrep)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "==> apt-get install ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
