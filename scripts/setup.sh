#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system packages, npm packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in nats-server protobuf-compiler sysdig; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
