#!/usr/bin/env bash
# install-deps.sh [build|test] — installs Sluice's Debian 12 packages.
# Idempotent and quiet when everything is already there. "build" installs what
# compiling and running needs; "test" adds the real peers the tests drive
# (swaks, nginx's mail proxy, haproxy, clang for fuzzing, Exim 4.96 reading
# our queuefile export (tests/integration/exim_peer.py), Postfix's
# smtp-source unpacked with dpkg -x so it never conflicts with an installed MTA;
# prometheus for promtool and a real scraping server in test_metrics.py;
# dkimpy and OpenDKIM's tools sign the messages the DKIM tests verify;
# OpenDMARC's opendmarc-import, unpacked with dpkg -x, reads our DMARC history
# file into a throwaway MariaDB server: tests/integration/opendmarc_peer.py).
set -euo pipefail
what=${1:-build}
export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo

build_pkgs=(build-essential cmake ninja-build ccache pkg-config
  libboost1.81-dev libwolfssl-dev libssl-dev liblmdb-dev lmdb-utils libc-ares-dev
  liburing-dev libpsl-dev publicsuffix libtomlplusplus-dev
  libgtest-dev googletest)
test_pkgs=(python3 python3-pytest python3-yaml python3-cryptography swaks openssl gnutls-bin
  libnet-ssleay-perl nginx-light libnginx-mod-mail haproxy
  clang libclang-rt-14-dev iproute2 procps exim4-daemon-light unbound
  libdb5.3 libicu72 libnsl2 libsasl2-2 libssl3 netbase
  prometheus gnuplot-nox python3-dkim python3-nacl opendkim-tools strace
  mariadb-server-core mariadb-client-core libdbd-mysql-perl libswitch-perl libjson-perl
  libhttp-message-perl)

pkgs=("${build_pkgs[@]}")
[[ $what == test ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} )); then
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO "${APT[@]}" update -qq >&2
  $SUDO "${APT[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# unpack PACKAGE FILE: downloads Debian's PACKAGE and unpacks it with dpkg -x
# under /opt/sluice-peers/PACKAGE (never installed), unless FILE is there.
unpack() {
  local dest=${SLUICE_PEERS_OPT:-/opt/sluice-peers}/$1
  [[ -e $dest/$2 ]] && return 0
  mkdir -p "$dest/debs"
  ( cd "$dest/debs" && $SUDO "${APT[@]}" download "$1" >/dev/null 2>&1 ) || {
    $SUDO "${APT[@]}" update -qq && ( cd "$dest/debs" && $SUDO "${APT[@]}" download "$1" >/dev/null ); }
  dpkg -x "$(ls "$dest"/debs/"$1"_*.deb | head -n1)" "$dest"
}

if [[ $what == test ]]; then
  # Postfix's smtp-source/smtp-sink, beside the system: Debian's postfix and
  # exim4 packages conflict with each other.
  unpack postfix usr/sbin/smtp-source
  # OpenDMARC's import script and schema: installing the package would start
  # its milter.
  unpack opendmarc usr/sbin/opendmarc-import
fi
