# Sourced by the set-up scripts: `build_go_tool <wrapper-dir> <module> <package> <name> <link> [ldflags]` builds a Go
# program pinned by the wrapper module's go.mod (a `tool` directive; its require line gives the version) into
# ~/.cache/maestro/<name>-<version>/<the package's last element> (once per version, niced: minutes on 2 cores; a new worktree
# reuses it) and links it as <link>. Extra ldflags may name $version (expanded here). Needs Go 1.26+.
build_go_tool() {
  local dir="$1" module="$2" package="$3" name="$4" link="$5" extra_ldflags="${6:-}"
  local version
  version=$(sed -n "s:^[[:space:]]*${module//./\\.} \(v[0-9][^ ]*\).*:\1:p" "$dir/go.mod" | head -n1)
  [ -n "$version" ] || { echo "setup-$name: $dir/go.mod does not require $module" >&2; return 1; }
  command -v go >/dev/null || { echo "setup-$name: go (1.26+) is not installed" >&2; return 1; }
  local cache="${MAESTRO_BIN_CACHE:-$HOME/.cache/maestro}/$name-$version"
  local bin="$cache/${package##*/}"
  if [ ! -x "$bin" ]; then
    echo "setup-$name: building $name $version into $cache (minutes on 2 cores)"
    mkdir -p "$cache"
    local started=$SECONDS
    # -v names each package as it is compiled: a running count every 100 is the progress of a cold build.
    (cd "$dir" && nice -n 15 go build -v -trimpath -ldflags="-s -w ${extra_ldflags//\$version/$version}" \
      -o "$bin.partial" "$package" 2>&1) |
      awk -v name="$name" -v started="$started" '
        /^(#|go: |[^ ]+\.go:)/ { print; next }   # errors and downloads as they are
        { n++; if (n % 100 == 0) { printf "setup-%s: %d packages compiled\n", name, n; fflush() } }'
    [ "${PIPESTATUS[0]}" -eq 0 ] || { echo "setup-$name: build failed" >&2; return 1; }
    mv "$bin.partial" "$bin"
    echo "setup-$name: built in $((SECONDS - started)) s"
  fi
  mkdir -p "$(dirname "$link")"
  ln -sfn "$bin" "$link"
  GO_TOOL_CACHE="$cache" GO_TOOL_VERSION="$version" # for the caller: what else it keeps beside the binary
  echo "setup-$name: ready ($name $version at $bin)"
}
