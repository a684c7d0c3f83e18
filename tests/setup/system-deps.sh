#!/usr/bin/env bash
# Debian packages for the real servers the integration tests start: PostgreSQL, Prometheus (+ promtool),
# Alertmanager, and Chromium for rendering checks. Installed as root (as CI runs); otherwise the exact
# command is printed and, in CI, this fails.
set -euo pipefail
packages=(postgresql prometheus prometheus-alertmanager chromium)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  bash -c "$cmd" >/dev/null
  # The packages' own services are not used: the tests start private servers on free ports.
  for svc in prometheus prometheus-alertmanager prometheus-node-exporter; do
    (systemctl stop "$svc" || service "$svc" stop) >/dev/null 2>&1 || true
  done
else
  echo "The integration tests need Debian packages that are not installed: ${missing[*]}" >&2
  echo "Run as root: sudo bash -c '$cmd'" >&2
  [ "${CI:-}" = "true" ] && exit 1
fi
exit 0
