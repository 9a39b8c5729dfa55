#!/usr/bin/env bash
# Installs sluice's CA into the system trust store (Debian/Ubuntu, Fedora/RHEL, Arch)
# and into the NSS databases Chrome and Firefox use on Linux.
# Usage: sudo deploy/install-ca-linux.sh certs/sluice-ca.pem
set -euo pipefail
ca=${1:?usage: $0 path/to/sluice-ca.pem}
if [ -d /usr/local/share/ca-certificates ]; then
  install -m 0644 "$ca" /usr/local/share/ca-certificates/sluice-ca.crt
  update-ca-certificates
elif [ -d /etc/pki/ca-trust/source/anchors ]; then
  install -m 0644 "$ca" /etc/pki/ca-trust/source/anchors/sluice-ca.pem
  update-ca-trust
elif command -v trust >/dev/null; then
  trust anchor --store "$ca"
else
  echo "unknown distribution: add $ca to your system trust store by hand" >&2
  exit 1
fi
# Chrome/Chromium (and Firefox profiles that use the shared NSS DB) on Linux.
if command -v certutil >/dev/null && [ -n "${SUDO_USER:-}" ]; then
  home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
  if [ -d "$home/.pki/nssdb" ]; then
    sudo -u "$SUDO_USER" certutil -d "sql:$home/.pki/nssdb" -A -t "C,," -n "sluice local CA" -i "$ca"
  fi
fi
echo "installed $ca"
