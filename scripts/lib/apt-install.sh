# Sourced by the set-up scripts: `apt_install_once <binary> <package> <who>` installs the Debian package
# unless the binary is already there (sudo when not root). The servers it brings are started by the
# project's own launchers, never by the package's service.
apt_install_once() {
  local binary="$1" package="$2" who="$3"
  [ -x "$binary" ] && return 0
  echo "$who: installing the Debian package $package"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null
}
