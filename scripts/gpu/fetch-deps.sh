#!/usr/bin/env bash
# Run HERE (a Debian machine with apt): downloads the Debian packages the GPU
# machine lacks (it has PyTorch, CUDA, fmt, CLI11, nlohmann-json and gtest,
# but no SQLite headers, toml++ or DLPack, and cannot install packages) and
# unpacks them into .deps/, a git-ignored folder the device tool carries.
set -euo pipefail
cd "$(dirname "$0")/../.."
pkgs=(libsqlite3-dev libtomlplusplus-dev libtomlplusplus3 libdlpack-dev)
rm -rf .deps && mkdir -p .deps/debs
(cd .deps/debs && apt-get download "${pkgs[@]}")
for deb in .deps/debs/*.deb; do dpkg -x "$deb" .deps/root; done
rm -rf .deps/debs
echo "fetch-deps: unpacked ${pkgs[*]} into .deps/root"
