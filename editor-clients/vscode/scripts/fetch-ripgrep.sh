#!/usr/bin/env bash
# code-server's VS Code depends on @vscode/ripgrep, whose install script downloads rg from GitHub
# (unreachable here) unless its cache already holds the release tarball. Pack Debian's rg (same
# 13.0.0 release) as that tarball. Usage: fetch-ripgrep.sh CODE_SERVER_DIR
set -euo pipefail
cs=$(cd "${1:?code-server package dir}" && pwd)
ver=$(node -p "require('$cs/lib/vscode/npm-shrinkwrap.json').packages['node_modules/@vscode/ripgrep'].version")
# The rg release tag that @vscode/ripgrep $ver asks for (lib/postinstall.js VERSION).
case "$ver" in
  1.15.*) tag=v13.0.0-10 ;;
  *) echo "fetch-ripgrep.sh: unknown @vscode/ripgrep $ver: look up VERSION in its lib/postinstall.js" >&2; exit 1 ;;
esac
rg=$(command -v rg) || { echo "fetch-ripgrep.sh: rg missing (Debian package ripgrep)" >&2; exit 1; }
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$ver"
tarball="$cache/ripgrep-$tag-x86_64-unknown-linux-musl.tar.gz"
[ -s "$tarball" ] && exit 0
mkdir -p "$cache"
work=$(mktemp -d)
cp "$rg" "$work/rg"
tar czf "$tarball.part" -C "$work" rg && mv "$tarball.part" "$tarball"
rm -rf "$work"
