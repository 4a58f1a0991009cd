#!/usr/bin/env bash
# Install (if missing) the Debian packages tracesync needs beside Python; idempotent.
#
# Run as root on Debian 12: `bash deploy/system/setup.sh` (`make system` does this).
#   - Pango, HarfBuzz and DejaVu fonts: WeasyPrint renders the PDF trace report with them.
#   - poppler-utils (pdftotext, pdftoppm): the tests read the PDF back as text and as an image.
#   - chromium, chromium-driver: the console's browser tests drive Debian's Chromium (Selenium).
#   - openssl: `tracesync kafka certs` / `kafka up --secure` make the local CA and broker certificate.
set -euo pipefail

PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 fonts-dejavu-core
          poppler-utils chromium chromium-driver openssl)

say() { echo "system-setup: $*"; }
die() { echo "system-setup: ERROR: $*" >&2; exit 1; }

missing=()
for package in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    say "all present: ${PACKAGES[*]}"
    exit 0
fi
[[ "$EUID" -eq 0 ]] || die "run as root to install: ${missing[*]}"
say "installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
command -v pdftotext >/dev/null || die "pdftotext still missing after the install"
command -v chromedriver >/dev/null || die "chromedriver still missing after the install"
command -v openssl >/dev/null || die "openssl still missing after the install"
say "ready"
