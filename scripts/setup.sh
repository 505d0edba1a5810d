#!/usr/bin/env bash
# semrec setup: idempotent, offline-safe (npm registry + Debian packages only).
#
#   1. Debian packages: libfaiss-dev (faiss 1.7.3), libopenblas0-pthread (fast BLAS for faiss and
#      PyTorch), python3-torch + python3-numpy (the trainer), python3-pytest + python3-pyflakes
#      (the trainer's tests and lint), g++/make (the faiss addon), chromium
#      (the test that opens the comparison report in a headless browser).
#   2. `npm ci --ignore-scripts` when node_modules is missing or older than package-lock.json:
#      faiss-node's install script downloads from GitHub and fails offline, onnxruntime-node's
#      downloads CUDA binaries (its CPU binaries ship inside the package).
#   3. The faiss-node addon, compiled from the package's own src/faiss.cc against Debian's faiss.
#   4. The TypeScript build (tsc -> dist/) when a source file is newer than the last build.
#
# Each step is skipped when already done, so running this before every command is cheap (~1 s).
# Set SEMREC_SKIP_APT=1 to skip step 1 (e.g. on a machine you manage yourself).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- 1. Debian packages
APT_PACKAGES=(libfaiss-dev libopenblas0-pthread python3-torch python3-numpy python3-pytest python3-pyflakes g++ make chromium)
if [ "${SEMREC_SKIP_APT:-0}" != "1" ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != "0" ]; then
      die "missing Debian packages: ${missing[*]}. Run as root, or install them first:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} with your package manager"
    log "installing Debian packages: ${missing[*]} (a few minutes on a fresh machine)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null \
      || die "apt-get install ${missing[*]} failed"
  fi
fi

# ---------------------------------------------------------------- 2. npm dependencies
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  log "installing npm dependencies (npm ci)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error || die "npm ci failed"
  touch "$stamp"
fi

# ---------------------------------------------------------------- 3. faiss-node addon
FAISS_DIR=node_modules/faiss-node
ADDON="$FAISS_DIR/build/Release/faiss-node.node"
if [ ! -f "$ADDON" ] || [ "$FAISS_DIR/src/faiss.cc" -nt "$ADDON" ] || [ scripts/setup.sh -nt "$ADDON" ] \
   || [ scripts/patch-faiss-node.mjs -nt "$ADDON" ]; then
  [ -f /usr/include/faiss/Index.h ] || die "faiss headers not found (/usr/include/faiss): install libfaiss-dev"
  node_inc=""
  for d in "$(dirname "$(dirname "$(command -v node)")")/include/node" /usr/include/node /usr/local/include/node \
           "$HOME/.cache/node-gyp/$(node -p process.versions.node)/include/node"; do
    if [ -f "$d/node_api.h" ]; then node_inc="$d"; break; fi
  done
  [ -n "$node_inc" ] || die "Node.js headers (node_api.h) not found; install Node's headers (e.g. Debian's libnode-dev)"
  napi_inc=$(node -p "require('path').dirname(require.resolve('node-addon-api/package.json', {paths: ['$ROOT/$FAISS_DIR']}))")
  [ -f "$napi_inc/napi.h" ] || die "node-addon-api not found (napi.h)"
  log "building faiss-node addon against Debian's libfaiss (about a minute)"
  mkdir -p "$FAISS_DIR/build/Release"
  shim=$(mktemp --suffix=.h)
  # faiss 1.7.3 declares idx_t inside Index; faiss-node expects faiss::idx_t (faiss >= 1.7.4).
  printf '#pragma once\n#include <faiss/Index.h>\nnamespace faiss { using idx_t = Index::idx_t; }\n' > "$shim"
  # Float32Array input for add/train/search (one memcpy instead of an N-API call per float).
  src_cc="$FAISS_DIR/build/faiss-semrec.cc"
  if ! node scripts/patch-faiss-node.mjs "$FAISS_DIR/src/faiss.cc" "$src_cc"; then
    log "warning: building faiss-node unpatched (slower: vectors are copied element by element)"
    cp "$FAISS_DIR/src/faiss.cc" "$src_cc"
  fi
  tmp="$ADDON.tmp.$$"
  g++ -O2 -std=c++17 -shared -fPIC -fopenmp -DNAPI_VERSION=6 -DNAPI_CPP_EXCEPTIONS \
    -include "$shim" -I"$node_inc" -I"$napi_inc" \
    "$src_cc" -o "$tmp" \
    -lfaiss -lblas -llapack -fopenmp \
    || { rm -f "$shim" "$tmp"; die "compiling the faiss-node addon failed (see the compiler output above)"; }
  rm -f "$shim"
  mv -f "$tmp" "$ADDON"
  node -e "const f=require('faiss-node'); const i=new f.IndexFlatL2(2); i.add([0,0,1,1]); if (i.ntotal()!==2) process.exit(1)" \
    || { rm -f "$ADDON"; die "the built faiss-node addon does not load"; }
fi

# ---------------------------------------------------------------- 4. TypeScript build
build_stamp=dist/.build-stamp
if [ ! -f "$build_stamp" ] || [ -n "$(find src quantizer decoding tsconfig.json tsconfig.build.json package-lock.json -newer "$build_stamp" -print -quit 2>/dev/null)" ]; then
  log "compiling TypeScript (tsc -> dist/)"
  rm -rf dist
  npx --no-install tsc -p tsconfig.build.json || die "TypeScript build failed"
  touch "$build_stamp"
fi
