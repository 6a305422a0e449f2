#!/usr/bin/env bash
# Installs the Debian packages Anvil needs, if any are missing. Idempotent:
# when everything is present it only checks and returns. Works as root or
# through sudo. Used by `make demo`, `make test` and CI.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config binutils   # toolchain (nm checks candidate imports)
  libtorch-dev                                # LibTorch: the reference and the eager baseline
  libdlpack-dev                               # DLTensor, the candidate ABI's tensor type
  python3-dev python3-torch                   # the worker's embedded Python (same LibTorch 1.13)
  libsqlite3-dev                              # the store
  nlohmann-json3-dev libcli11-dev libfmt-dev libtomlplusplus-dev
  libcurl4-openssl-dev                        # the LLM providers' HTTP client
  libgtest-dev libgmock-dev                   # tests
  libcpp-httplib-dev                          # tests: the loopback stand-in LLM server
  chromium                                    # tests: the HTML report rendered in a headless browser
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null; then
  sudo=(sudo)
else
  echo "setup: need root or sudo to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup: done"
