#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building, running and testing ssecast needs on Debian 12 (as root).
# Idempotent: apt runs only when a package is missing; npm ci only when the lock changed.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ccache pkg-config clang-format clang libclang-rt-14-dev
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libhiredis-dev libssl-dev libjwt-dev libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev
  libgtest-dev redis-server redis-tools curl openssl
  python3 python3-pytest python3-pytest-timeout python3-requests python3-jwt
  python3-prometheus-client
  libsystemd-dev systemd debhelper python3-yaml
  libssl-dev python3-cryptography
)
# libsystemd-dev: sd_notify (systemd Type=notify); systemd: systemd-analyze verify in the
# tests; debhelper: the Debian package (debian/); python3-yaml: the compose file's lint.
# libssl-dev: JWK -> key and signature checks (src/auth/jwk.cpp); python3-cryptography: the
# tests make RSA/EC/Ed25519 keys and sign tokens with them (test_auth_keys.py).
# Node.js: keep the one the machine has (Debian's npm package would replace a newer npm).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  APT_PACKAGES+=(nodejs npm)
fi
if [[ "${SSECAST_WITH_BROWSER:-0}" == 1 ]]; then
  APT_PACKAGES+=(chromium)
fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt_opts=(-o DPkg::Lock::Timeout=600 -qq)
  apt-get "${apt_opts[@]}" update
  apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages, from the lock files (offline-reproducible).
npm_ci() {
  local dir=$1
  [[ -f "$dir/package-lock.json" ]] || return 0
  local stamp="$dir/node_modules/.ssecast-lock.sha"
  local sum
  sum=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$sum" ]]; then
    echo "setup: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$sum" >"$stamp"
  fi
}
npm_ci clients/js
npm_ci web/admin
