#!/usr/bin/env bash
# gatito's one entry point. It installs only what is missing, so running it twice is cheap.
#
#   ./build.sh         build the page with the shipped model and serve it on http://127.0.0.1:8080
#   ./build.sh test    run every test: native Rust, wasm in headless Chromium, and the page with Playwright
#   ./build.sh bench   time the model against ONNX Runtime: native CPU and Vulkan, then CPU-wasm and WebGPU in headless Chromium
#   ./build.sh fuzz [SECONDS]   run every fuzz target (crate/fuzz) for SECONDS each (60 by default)
#   ./build.sh soak [MINUTES]   use the page in headless Chromium for MINUTES (60 by default), recording memory and step times
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$HOME/.cargo/bin:$PATH"

WASM_TARGET=wasm32-unknown-unknown
# The wasm build with relaxed SIMD. RUSTFLAGS replaces .cargo/config.toml's flags, so it repeats them.
RELAXED_SIMD_RUSTFLAGS='--cfg getrandom_backend="wasm_js" -C target-feature=+simd128,+relaxed-simd'
PORT=${PORT:-8080}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# The wasm-bindgen CLI must match the library version pinned in Cargo.lock exactly.
locked_version() {
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

setup_rust() {
    rustup target list --installed | grep -qx "$WASM_TARGET" || rustup target add "$WASM_TARGET"
    [ -f Cargo.lock ] || cargo generate-lockfile
    local want
    want=$(locked_version wasm-bindgen)
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
        step "installing wasm-bindgen-cli $want"
        # Not --locked: one of its locked dependency versions is gone from the registry.
        cargo install wasm-bindgen-cli --version "$want"
    fi
}

setup_wasm_pack() {
    command -v wasm-pack >/dev/null || { step "installing wasm-pack"; cargo install wasm-pack; }
}

setup_debian() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

setup_python() {
    # pip's dry run lists what it would install: nothing, once every pin is satisfied.
    if pip install --dry-run --quiet --report - -r models/recipe/requirements.txt 2>/dev/null \
        | python3 -c 'import json, sys; sys.exit(1 if json.load(sys.stdin)["install"] else 0)'; then
        return
    fi
    step "installing the recipe's Python packages"
    pip install --quiet -r models/recipe/requirements.txt
}

setup_node() {
    # npm ci only when the lock changed since the last install (a copy of it marks the install).
    if ! cmp -s www/package-lock.json www/node_modules/.installed-lock.json; then
        step "installing node packages"
        (cd www && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.installed-lock.json)
    fi
}

# The manifest the page checks every model file against (size and sha256) before using it.
write_manifest() {
    local dir=$1 file entries="" separator=""
    for file in "$dir"/*; do
        [ "${file##*/}" = manifest.json ] && continue
        entries+=$(printf '%s\n    "%s": {"bytes": %s, "sha256": "%s"}' "$separator" "${file##*/}" \
            "$(stat -c %s "$file")" "$(sha256sum "$file" | cut -d' ' -f1)")
        separator=","
    done
    printf '{\n  "files": {%b\n  }\n}\n' "$entries" > "$dir/manifest.json"
}

# Names the service worker's cache after everything the page serves, so a new build never
# answers from an old build's cache.
write_build_id() {
    local id
    id=$(find www -path www/node_modules -prune -o -type f ! -name build.js -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)
    printf 'export const BUILD = "%s";\n' "$id" > www/build.js
}

build_web() {
    step "building the wasm package"
    local target="${CARGO_TARGET_DIR:-target}"
    cargo build -p gatito --lib --profile web --target "$WASM_TARGET"
    wasm-bindgen --target web --out-dir pkg/wasm "$target/$WASM_TARGET/web/gatito.wasm"
    # A second build with relaxed SIMD (fused multiply-adds in the model's matrix products),
    # which the worker loads where the browser validates it. Its own target folder: other flags
    # would rebuild everything in the plain one.
    step "building the wasm package with relaxed SIMD"
    CARGO_TARGET_DIR="$target/relaxed-simd" RUSTFLAGS="$RELAXED_SIMD_RUSTFLAGS" \
        cargo build -p gatito --lib --profile web --target "$WASM_TARGET"
    wasm-bindgen --target web --out-dir pkg/wasm/relaxed "$target/relaxed-simd/$WASM_TARGET/web/gatito.wasm"
    # The page is built on the package, served from a copy of it.
    rm -rf www/gatito
    cp -r pkg www/gatito
    mkdir -p www/models
    rm -rf www/models/gatito-s
    cp -r models/gatito-s www/models/gatito-s
    write_manifest www/models/gatito-s
    write_build_id
}

serve() {
    step "serving http://127.0.0.1:$PORT"
    exec python3 scripts/serve.py --root www --port "$PORT"
}

run_tests() {
    setup_wasm_pack
    setup_debian chromium chromium-driver mesa-vulkan-drivers
    setup_node
    setup_python
    step "preparing MNIST and Fashion-MNIST"
    models/recipe/prepare_data.sh

    step "native tests"
    cargo test --workspace

    step "training recipe tests"
    # The debug binary that cargo test just built is fast enough for a few batches.
    local target
    target=$(cd "${CARGO_TARGET_DIR:-target}" && pwd)
    (cd models/recipe && GATITO_BIN="$target/debug/gatito" python3 -m pytest -q)

    step "wasm tests in headless Chromium"
    wasm-pack test --headless --chrome crate
    step "wasm tests again in the relaxed-SIMD build (its own matrix kernel)"
    CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-target}")/relaxed-simd" RUSTFLAGS="$RELAXED_SIMD_RUSTFLAGS" \
        wasm-pack test --headless --chrome crate

    build_web
    step "the package: its example type-checks, and npm pack ships what it should"
    (cd www && npx tsc -p tsconfig.json)
    node scripts/check_package.mjs
    step "page tests (Playwright)"
    (cd www && npx playwright test)
}

# The speed peer: the shipped model in ONNX, and ONNX Runtime Web's wasm backend, served from
# the page's own origin as www/ort/.
build_peer() {
    step "the peer: the shipped model exported to ONNX, and ONNX Runtime Web"
    rm -rf www/ort
    mkdir -p www/ort
    python3 models/recipe/export_onnx.py --out www/ort/gatito-s.onnx
    cp www/node_modules/onnxruntime-web/dist/{ort.wasm.min.mjs,ort-wasm-simd-threaded.mjs,ort-wasm-simd-threaded.wasm} www/ort/
}

run_bench() {
    setup_debian chromium chromium-driver mesa-vulkan-drivers
    setup_node
    setup_python
    cargo build --release -p gatito
    local gatito="${CARGO_TARGET_DIR:-target}/release/gatito" passes=${GATITO_BENCH_PASSES:-5} native=""
    export GATITO_BENCH_STEPS=${GATITO_BENCH_STEPS:-200}
    build_web
    build_peer
    mkdir -p artifacts
    # Passes alternate gatito and ONNX Runtime, so the machine's noise falls on both sides of a ratio.
    for pass in $(seq "$passes"); do
        step "native pass $pass of $passes: candle, then ONNX Runtime (CPU EP, 1 thread)"
        native+="${native:+, }[$("$gatito" bench --steps "$GATITO_BENCH_STEPS" --json),"
        native+=" $(python3 models/recipe/bench_onnx.py www/ort/gatito-s.onnx --steps "$GATITO_BENCH_STEPS")]"
    done
    echo "{\"passes\": [$native]}" >artifacts/bench-native.json
    step "native bench: Vulkan (the WGSL engine)"
    "$gatito" bench --backend gpu --steps "$GATITO_BENCH_STEPS" --json >artifacts/bench-vulkan.json ||
        echo '{"backend": "gpu (wgsl engine, native)", "error": "no Vulkan adapter"}' >artifacts/bench-vulkan.json
    step "browser bench: CPU-wasm against ONNX Runtime Web in alternating passes, then WebGPU, in headless Chromium"
    (cd www && GATITO_BENCH=1 GATITO_BENCH_PASSES="$passes" npx playwright test tests/bench.spec.js)
    step "results"
    python3 scripts/bench_table.py artifacts/bench-native.json artifacts/bench-vulkan.json artifacts/bench-browser.json
}

# The fuzz targets, one at a time, each from its seeds (crate/fuzz/seeds, in the repository) and
# the corpus earlier runs grew (crate/fuzz/corpus, not). cargo-fuzz builds with sanitizer flags
# that only nightly accepts; RUSTC_BOOTSTRAP=1 lets the stable compiler take them.
run_fuzz() {
    local seconds=${1:-60} target
    command -v cargo-fuzz >/dev/null || { step "installing cargo-fuzz"; cargo install cargo-fuzz; }
    cd crate
    export RUSTC_BOOTSTRAP=1
    step "building the fuzz targets (AddressSanitizer, coverage)"
    cargo fuzz build
    for target in $(cargo fuzz list); do
        step "fuzzing $target for ${seconds}s"
        mkdir -p "fuzz/corpus/$target"
        # libFuzzer's default is one process; a crash stops it and leaves its input in fuzz/artifacts/.
        cargo fuzz run "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
            -max_total_time="$seconds" -rss_limit_mb=3072 -print_final_stats=1
    done
}

# The soak: a benchmark, not a test (./build.sh test runs a two-minute version of it).
run_soak() {
    local minutes=${1:-60} status=0
    setup_debian chromium chromium-driver mesa-vulkan-drivers
    setup_node
    setup_python
    build_web
    step "using the page for $minutes minutes"
    rm -f artifacts/soak.json
    (cd www && GATITO_SOAK_MINUTES="$minutes" npx playwright test tests/soak.spec.js) || status=$?
    if [ -f artifacts/soak.json ]; then
        python3 scripts/soak_plot.py artifacts/soak.json --out artifacts/soak.png
        step "results: artifacts/soak.json, artifacts/soak.csv and artifacts/soak.png"
        python3 -c 'import json; print(json.load(open("artifacts/soak.json"))["verdict"])'
    fi
    return $status
}

setup_rust
case "${1:-serve}" in
    serve) build_web && serve ;;
    test) run_tests ;;
    bench) run_bench ;;
    fuzz) run_fuzz "${2:-}" ;;
    soak) run_soak "${2:-}" ;;
    *) echo "usage: ./build.sh [test|bench|fuzz [SECONDS]|soak [MINUTES]]" >&2; exit 2 ;;
esac
