#!/usr/bin/env bash
# Install Neovim from a newer Debian suite into a private root, without touching the system.
#
#   install-nvim.sh SUITE DEST [EXPECT]   e.g. install-nvim.sh sid .editors/nvim-0.12 0.12
#
# Uses a private apt configuration (its own sources list holding only SUITE of the mirror this
# machine already uses, its own lists and cache, an empty dpkg status), `apt-get download`s neovim
# and its recursive dependencies, `dpkg -x`es each into DEST/root, points the nvim binary at the
# private loader and libraries with patchelf (not `ld.so --library-path`: nvim 0.10+ re-executes
# itself), and writes DEST/bin/nvim, a wrapper that sets VIMRUNTIME. Prints the installed version.
set -euo pipefail

suite=${1:?usage: install-nvim.sh SUITE DEST}
dest=${2:?usage: install-nvim.sh SUITE DEST}
expect=${3:-}
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")

if ! command -v patchelf >/dev/null 2>&1; then
    echo "==> installing Debian's patchelf"
    apt-get update -qq && apt-get install -y -qq patchelf >/dev/null
fi

# The mirror this machine already uses (deb822 or one-line sources).
mirror=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list \
    2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt_dir="$dest/apt"  # removed at the end: only the unpacked root stays
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$apt_dir/etc/preferences.d"
echo "deb [signed-by=$keyring] $mirror $suite main" > "$apt_dir/sources.list"
apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=$apt_dir/etc/preferences.d"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::State::status=/dev/null"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Architecture=$arch"
    -o "APT::Architectures::=$arch"
    -o "Acquire::Languages=none"
    -o "APT::Sandbox::User=root"
)

echo "==> neovim from Debian $suite into $dest"
apt-get "${apt_opts[@]}" -qq update
# Every package neovim needs, recursively, real packages only (virtual ones have no archive).
mapfile -t pkgs < <(apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances neovim | grep -E '^[a-z0-9]' | sort -u)
real=()
for p in "${pkgs[@]}"; do
    if apt-cache "${apt_opts[@]}" show "$p" >/dev/null 2>&1; then real+=("$p"); fi
done
(cd "$apt_dir/debs" && rm -f ./*.deb && apt-get "${apt_opts[@]}" -qq download "${real[@]}")

root="$dest/root"
rm -rf "$root"
mkdir -p "$root"
for deb in "$apt_dir/debs"/*.deb; do dpkg -x "$deb" "$root"; done

libdir="$root/usr/lib/$multiarch"
loader=$(ls "$libdir"/ld-linux-*.so.* 2>/dev/null | head -n1)
[ -n "$loader" ] || { echo "no dynamic loader in $libdir" >&2; exit 1; }
patchelf --set-interpreter "$loader" --force-rpath --set-rpath "$libdir:$root/lib/$multiarch" "$root/usr/bin/nvim"

mkdir -p "$dest/bin"
cat > "$dest/bin/nvim" <<EOF
#!/bin/sh
VIMRUNTIME="$root/usr/share/nvim/runtime" exec "$root/usr/bin/nvim" "\$@"
EOF
chmod +x "$dest/bin/nvim"
rm -rf "$apt_dir"
version=$("$dest/bin/nvim" --version | head -n1)
echo "$version"
case "$version" in
    "NVIM v$expect"*) ;;
    *) echo "warning: Debian $suite now has $version, not $expect" >&2 ;;
esac
