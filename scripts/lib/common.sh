# Shared by scripts/*: where things are, Debian packages, the build.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD_DIR=${SHOP_BUILD_DIR:-$ROOT/build}
# shellcheck disable=SC2034  # used by the scripts that source this file, not here
RUN_DIR=${SHOP_RUN_DIR:-$ROOT/.run}

# Everything the build, the mesh and the tests need, from Debian 12.
DEB_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git openssl curl ca-certificates
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev libabsl-dev
  libpqxx-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev nlohmann-json3-dev
  libcpp-httplib-dev libssl-dev libgtest-dev libgmock-dev
  postgresql-15 postgresql-client-15
)
# What the static checks of scripts/test add (scripts/lib/checks.sh): format,
# lint, the thread-safety analysis (clang), shell scripts. buf comes from npm:
# node and npm are installed from Debian only when missing (scripts/lib/protos.sh),
# since a machine may have its own.
CHECK_PACKAGES=(clang clang-format clang-tidy shellcheck python3)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the missing ones of DEB_PACKAGES (what the build, the mesh and the
# tests need); ensure_check_packages adds the static checks' tools.
ensure_packages() { _ensure_debian_packages "${DEB_PACKAGES[@]}"; }
ensure_check_packages() { _ensure_debian_packages "${DEB_PACKAGES[@]}" "${CHECK_PACKAGES[@]}"; }

_ensure_debian_packages() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian package starts a system cluster on 5432; the mesh runs its own.
}

build_all() {
  log "building (ccache, -j2) into $BUILD_DIR"
  if [[ ! -f "$BUILD_DIR/build.ninja" ]]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_COMPILER_LAUNCHER=ccache >/dev/null
  fi
  cmake --build "$BUILD_DIR" -j "${SHOP_JOBS:-2}"
}
