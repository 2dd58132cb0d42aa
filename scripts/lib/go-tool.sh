# Sourced by the set-up scripts: `build_go_tool <wrapper-dir> <module> <package> <name> <link>` builds a Go program
# pinned by the wrapper module's go.mod (a `tool` directive; its require line gives the version) into
# ~/.cache/maestro/<name>-<version>/<name> (once per version, niced: minutes on 2 cores; a new worktree
# reuses it) and links it as <link>. Needs Go 1.26+.
build_go_tool() {
  local dir="$1" module="$2" package="$3" name="$4" link="$5"
  local version
  version=$(sed -n "s:^[[:space:]]*${module//./\\.} \(v[0-9][^ ]*\).*:\1:p" "$dir/go.mod" | head -n1)
  [ -n "$version" ] || { echo "setup-$name: $dir/go.mod does not require $module" >&2; return 1; }
  command -v go >/dev/null || { echo "setup-$name: go (1.26+) is not installed" >&2; return 1; }
  local cache="${MAESTRO_BIN_CACHE:-$HOME/.cache/maestro}/$name-$version"
  local bin="$cache/$name"
  if [ ! -x "$bin" ]; then
    echo "setup-$name: building $name $version into $cache (minutes on 2 cores)"
    mkdir -p "$cache"
    (cd "$dir" && nice -n 15 go build -trimpath -ldflags='-s -w' -o "$bin.partial" "$package")
    mv "$bin.partial" "$bin"
  fi
  mkdir -p "$(dirname "$link")"
  ln -sfn "$bin" "$link"
  echo "setup-$name: ready ($name $version at $bin)"
}
