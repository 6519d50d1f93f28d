#!/usr/bin/env bash
# Before `npm run bench`: the benchmark's real peers come from Debian. Installs the missing ones when it can
# (root or sudo, apt-get), and stops the services the packages may start, so they do not share the CPU.
set -euo pipefail

declare -A needs=([influxd]=influxdb [prometheus]=prometheus [prometheus-blackbox-exporter]=prometheus-blackbox-exporter [curl]=curl)
missing=()
for tool in "${!needs[@]}"; do command -v "$tool" >/dev/null 2>&1 || missing+=("${needs[$tool]}"); done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  if ! command -v apt-get >/dev/null 2>&1 || { [ -n "$SUDO" ] && ! command -v sudo >/dev/null 2>&1; }; then
    echo "bench: install the Debian packages ${missing[*]} first (apt-get is not usable here)" >&2
    exit 1
  fi
  echo "# bench: installing ${missing[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >&2
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  for svc in influxdb prometheus prometheus-blackbox-exporter; do ($SUDO service "$svc" stop >/dev/null 2>&1 || true); done
fi
