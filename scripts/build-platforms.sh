#!/usr/bin/env bash
# Build the prebuilt binaries: one .node per platform package under npm/<platform>/, from this
# x86_64 Linux machine (`npm run build:platforms`; `bash scripts/build-platforms.sh linux-arm64-gnu`
# builds one). blst is always built portable (it picks ADX or plain assembly at run time, as
# crates/kernels/src/backend.rs tells it, so the binary runs on every CPU of its architecture) and linked by zig against glibc $GLIBC_FLOOR, so it
# loads on any distribution with that glibc or newer.
#
# Tools, installed on first use (nothing else is needed beyond cargo and rustc):
#   - cargo-zigbuild and ziglang from PyPI, in a venv under $MNP_TOOLS;
#   - the target's Rust standard library from `rustup target add`; where rustup cannot fetch it
#     (its servers are not always reachable): std is compiled from source (cargo -Zbuild-std, allowed on stable through
#     RUSTC_BOOTSTRAP=1) out of Debian's `rust-src` package of the exact rustc version, which is
#     fetched with apt-get into $MNP_TOOLS (the system's apt state is left as it is) and put in a
#     toolchain directory linked to the installed rustc (`rustup toolchain link
#     mnp-rust-src-<version>`), so the installed toolchain itself is not modified.
# Env: CARGO_TARGET_DIR (default target/platforms/), MNP_TOOLS, GLIBC_FLOOR (default 2.28), MNP_BUILD_STD=1
# (compile std from source even where rustup has the target).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GLIBC_FLOOR=${GLIBC_FLOOR:-2.28}
MNP_TOOLS=${MNP_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/midnight-native-prover/build-tools}
# Its own target directory: the zig linker and glibc pin would otherwise rebuild
# a contributor's dev build (target/<triple>/release) in place.
target_dir=${CARGO_TARGET_DIR:-$root/target/platforms}
export CARGO_TARGET_DIR=$target_dir
name=$(node -p "require('./package.json').napi.binaryName")
lib=lib${name//-/_}.so
ZIGBUILD_VERSION=0.24.1
ZIG_VERSION=0.15.2

log() { printf '%s build-platforms: %s\n' "$(date -u +%H:%M:%S)" "$*"; }

triple_of() {
  case "$1" in
    linux-x64-gnu) echo x86_64-unknown-linux-gnu ;;
    linux-arm64-gnu) echo aarch64-unknown-linux-gnu ;;
    *) echo "build-platforms: no recipe for $1" >&2; return 1 ;;
  esac
}

zig_tools() {
  if [ ! -x "$MNP_TOOLS/venv/bin/cargo-zigbuild" ]; then
    log "installing cargo-zigbuild $ZIGBUILD_VERSION and ziglang $ZIG_VERSION (PyPI) into $MNP_TOOLS/venv"
    python3 -m venv "$MNP_TOOLS/venv"
    "$MNP_TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check \
      "cargo-zigbuild==$ZIGBUILD_VERSION" "ziglang==$ZIG_VERSION"
  fi
  export PATH="$MNP_TOOLS/venv/bin:$PATH"
}

# A rustc whose sysroot also holds rust-src of its own version: the toolchain's rustc and
# librustc_driver (rustc finds its sysroot from the driver library's real path) linked into a
# directory of our own with the rest of the toolchain, plus lib/rustlib/src/rust from Debian's
# rust-src. Prints the rustc path.
rustc_with_src() {
  local sysroot version dir deb
  sysroot=$(rustc --print sysroot)
  version=$(rustc -V | awk '{print $2}')
  dir=$MNP_TOOLS/rustc-$version-src
  if [ -d "$sysroot/lib/rustlib/src/rust/library" ]; then command -v rustc; return; fi
  if [ ! -f "$dir/lib/rustlib/src/rust/library/Cargo.lock" ]; then
    log "rustup has no rust-src here: fetching Debian's rust-src $version with apt-get" >&2
    fetch_debian_rust_src "$version" "$MNP_TOOLS/apt" >&2
    deb=$(ls "$MNP_TOOLS"/apt/rust-src_"$version"+*_all.deb | head -n 1)
    rm -rf "$dir" && mkdir -p "$dir/bin" "$dir/lib/rustlib/src" "$dir/deb"
    dpkg-deb -x "$deb" "$dir/deb"
    ln -s "$dir/deb/usr/src/rustc-$version" "$dir/lib/rustlib/src/rust"
  fi
  mkdir -p "$dir/bin" "$dir/lib/rustlib"
  # rustc takes its sysroot from the real path of librustc_driver: that one is a copy (a hard link
  # where the file system allows), the rest are symbolic links.
  cp -lf "$sysroot/bin/rustc" "$dir/bin/rustc" 2>/dev/null || cp -f "$sysroot/bin/rustc" "$dir/bin/rustc"
  for f in "$sysroot"/lib/* "$sysroot"/lib/rustlib/*; do
    rel=${f#"$sysroot"/lib/}
    case "$rel" in
      rustlib | rustlib/src) ;;
      librustc_driver-*) rm -f "$dir/lib/$rel"; cp -lf "$f" "$dir/lib/$rel" 2>/dev/null || cp -f "$f" "$dir/lib/$rel" ;;
      *) ln -sfn "$f" "$dir/lib/$rel" ;;
    esac
  done
  echo "$dir/bin/rustc"
}

# Debian's rust-src of exactly this rustc version, from the suite that has it (trixie-backports
# carries every recent release), through apt-get with a private state and the system's mirror.
fetch_debian_rust_src() {
  local version=$1 dir=$2 mirror suite pkgver
  mirror=$(grep -h -o -m1 -E 'https?://[^ ]+/debian/?$' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n 1)
  mirror=${mirror:-$(grep -h -o -m1 -E 'https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list 2>/dev/null | head -n 1)}
  [ -n "$mirror" ] || { echo "build-platforms: no Debian mirror in /etc/apt sources" >&2; return 1; }
  mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial"
  : >"$dir/status"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie-backports main\n' "$mirror" >"$dir/sources.list"
  local opts=(-o "Dir::Etc::sourcelist=$dir/sources.list" -o "Dir::Etc::sourceparts=-" -o "Dir::State::Lists=$dir/lists"
    -o "Dir::State::status=$dir/status" -o "Dir::Cache=$dir/cache" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1")
  apt-get "${opts[@]}" -qq update
  pkgver=$(apt-cache "${opts[@]}" madison rust-src | awk -v v="$version" '$3 ~ "^"v"\\+" {print $3; exit}')
  [ -n "$pkgver" ] || { echo "build-platforms: Debian has no rust-src $version (rustc -V); install one of: $(apt-cache "${opts[@]}" madison rust-src | awk '{print $3}' | tr '\n' ' ')" >&2; return 1; }
  (cd "$dir" && apt-get "${opts[@]}" -qq download "rust-src=$pkgver")
}

glibc_floor() {
  readelf -W --dyn-syms "$1" | grep -o 'GLIBC_[0-9.]*' | sort -u -V | tail -n 1
}

build_one() {
  local platform=$1 triple rustc_bin toolchain args=() out start
  triple=$(triple_of "$platform")
  start=$SECONDS
  args=(zigbuild --release --lib --locked --target "$triple.$GLIBC_FLOOR")
  if [ -z "${MNP_BUILD_STD:-}" ] && { rustup target list --installed 2>/dev/null | grep -qx "$triple" \
    || { log "$platform: rustup target add $triple" && timeout 300 rustup target add "$triple"; }; }; then
    log "$platform: rustup's std for $triple"
  else
    [ -n "${MNP_BUILD_STD:-}" ] || log "$platform: rustup could not install std for $triple"
    rustc_bin=$(rustc_with_src)
    # Cargo looks for rust-src beside the toolchain rustup selects, not beside $RUSTC: make that
    # directory a rustup toolchain of its own (rustup runs the default toolchain's cargo for it).
    toolchain=mnp-rust-src-$(rustc -V | awk '{print $2}')
    rustup toolchain link "$toolchain" "$(dirname "$(dirname "$rustc_bin")")"
    export RUSTUP_TOOLCHAIN=$toolchain RUSTC_BOOTSTRAP=1
    args+=(-Zbuild-std=std,panic_abort)
    log "$platform: std for $triple compiled from source (toolchain $RUSTUP_TOOLCHAIN: $rustc_bin and Debian's rust-src)"
  fi
  log "$platform: cargo ${args[*]}"
  nice -n "${MNP_NICE:-15}" cargo "${args[@]}"
  unset RUSTUP_TOOLCHAIN RUSTC_BOOTSTRAP
  out=npm/$platform/$name.$platform.node
  cp -f "$target_dir/$triple/release/$lib" "$out"
  log "$platform: $out ($(du -h "$out" | cut -f1), needs $(glibc_floor "$out"), $((SECONDS - start)) s)"
}

zig_tools
node scripts/patch-crates.js
platforms=("$@")
[ ${#platforms[@]} -gt 0 ] || mapfile -t platforms < <(node -p "require('./package.json').napi.targets.map((t) => ({ 'x86_64-unknown-linux-gnu': 'linux-x64-gnu', 'aarch64-unknown-linux-gnu': 'linux-arm64-gnu' })[t]).join('\n')")
for p in "${platforms[@]}"; do build_one "$p"; done
