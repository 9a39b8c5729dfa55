#!/usr/bin/env bash
# Installs sluice's CA as a trusted root in the macOS System keychain (Safari,
# Chrome and every app using the system trust store).
# Usage: sudo deploy/install-ca-macos.sh certs/sluice-ca.pem
set -euo pipefail
ca=${1:?usage: $0 path/to/sluice-ca.pem}
security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "$ca"
echo "installed $ca"
