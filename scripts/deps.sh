#!/usr/bin/env bash
# Installs the Debian packages Lunet builds and tests with. Idempotent: only
# missing packages are installed; `apt-get update` runs only when needed.
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config clang libclang-rt-dev
  libluajit2-5.1-dev libuv1-dev libssl-dev node-llhttp libpcre2-dev zlib1g-dev
  libgtest-dev
  libtest-base-perl libtext-diff-perl libipc-run3-perl libwww-perl liburi-perl
  lua-cjson curl procps bc strace
  nginx libnginx-mod-http-lua lua-resty-core lua-resty-lrucache
  redis-server
)
# nginx (with the Lua module) is a test dependency: t/diff/ compares Lunet
# with it, and t/ files can run against it (t/README.md).
if [ "${1:-}" = "--bench" ]; then
  pkgs+=(wrk python3 util-linux)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
