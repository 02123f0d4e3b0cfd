#!/bin/sh
# Installs the Debian packages bulkrepo builds and tests with (PostgreSQL's libpq and a server
# for the store tests' throwaway cluster; the test servers of issue 17:
# pyftpdlib for FTP and FTPS, OpenSSH's sshd for SFTP, aiosmtpd for SMTP, all on loopback), skipping quickly
# when they are all present. Needs root (or sudo) only when something is missing.
set -eu

PKGS="pkg-config libsqlite3-dev sqlite3 libxml2-dev libxml2-utils libzip-dev zip unzip \
libssl-dev libutf8proc-dev libmagic-dev libmagic-mgc libjansson-dev libcmocka-dev \
libcurl4-openssl-dev libmicrohttpd-dev libsodium-dev libxlsxwriter-dev \
python3-pyftpdlib python3-openssl python3-aiosmtpd openssh-server openssh-client \
libpq-dev postgresql"

missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
