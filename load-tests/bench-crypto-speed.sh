#!/usr/bin/env bash
# bench-crypto-speed.sh — CPU microseconds per public-key operation of a server's
# TLS handshake, Debian's wolfSSL beside OpenSSL's libcrypto on this machine:
# what docs/tls.md "Who signs with the certificate's key" rests on. Builds two
# small programs (load-tests/crypto_speed/) into a temporary folder, runs
# each, then `openssl speed` for the same operations.
# Usage: load-tests/bench-crypto-speed.sh [ITERATIONS]   (default 2000)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
n=${1:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
g++ -std=c++20 -O2 -I/usr/include/wolfssl "$here/crypto_speed/wolfcrypt_speed.cpp" -lwolfssl -o "$tmp/wolfcrypt_speed"
g++ -std=c++20 -O2 "$here/crypto_speed/libcrypto_speed.cpp" -lcrypto -o "$tmp/libcrypto_speed"
echo "# $(date -u '+%Y-%m-%d %H:%M:%S') UTC, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), nproc=$(nproc), loadavg=$(cut -d' ' -f1 /proc/loadavg), $n iterations"
"$tmp/wolfcrypt_speed" "$n"
"$tmp/libcrypto_speed" "$n"
openssl speed -seconds 2 ecdsap256 ecdhp256 ecdhx25519 2>/dev/null | grep -E 'ecdsa|ecdh' | sed 's/^/openssl speed: /'
