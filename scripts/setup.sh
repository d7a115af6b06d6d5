#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine: system packages, npm packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
# nats-server: the event bus; protobuf-compiler, libprotobuf-dev (google/protobuf/*.proto): the
# generated-code drift check; sysdig: capture oracle in tests;
# clang, llvm, libbpf-dev, bpftool, libelf-dev, make, gcc: the eBPF probe; podman, runc,
# busybox-static: containers for the live tests; containerd: the CRI client tests (real pods);
# python3: the probe's own tests.
for pkg in nats-server protobuf-compiler libprotobuf-dev sysdig clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev make gcc libc6-dev podman runc busybox-static containerd python3; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
# The probe needs the running kernel's BTF; without it (or without root) Harrier can still replay
# captures, and the live tests skip with the reason.
if [ -r /sys/kernel/btf/vmlinux ]; then
  make -s -C probe
else
  echo "setup: /sys/kernel/btf/vmlinux is missing: the eBPF probe is not built (capture replay still works)" >&2
fi
