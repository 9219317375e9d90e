#!/usr/bin/env bash
# Installs every Debian 12 package chainrule needs to build, run and test.
# Idempotent: packages already present are left alone, so a second run is quick.
# Must run as root (or with sudo available) on Debian 12 "bookworm".
set -euo pipefail

packages=(
  # toolchain
  g++ cmake make pkg-config git ca-certificates
  # numbers: Boost.Multiprecision (1.81, see docs/dependencies.md) over MPFR/GMP; MPFI for intervals
  libboost1.81-dev libmpfr-dev libgmp-dev libmpfi-dev
  # text formatting, command line, grammar, JSON
  libfmt-dev libcli11-dev tao-pegtl-dev nlohmann-json3-dev
  # graph layout and rendering in-process (cgraph + gvc); `graphviz` registers the plugins
  graphviz libgraphviz-dev
  # tests
  catch2 python3-mpmath
  # sanitizer and fuzzer builds
  clang libclang-rt-14-dev
  # proving the LaTeX compiles, reading numbers back out of the PDF, rasterising
  texlive-latex-base texlive-latex-recommended texlive-pictures poppler-utils
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # libboost1.81-dev conflicts with the default libboost-dev (1.74): remove the latter if present.
  if dpkg-query -W -f='${Status}' libboost1.74-dev 2>/dev/null | grep -q "install ok installed"; then
    $SUDO apt-get remove -y -qq libboost1.74-dev libboost-dev || true
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#packages[@]} packages already installed"
fi

# Graphviz looks its plugins up in config6a, which only the package's postinst writes.
gvdir=$(dirname "$(find /usr/lib -name 'libgvplugin_dot_layout.so*' -print -quit 2>/dev/null || true)")
if [ -n "$gvdir" ] && [ ! -s "$gvdir/config6a" ]; then
  $SUDO dot -c
fi
