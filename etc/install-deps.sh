#!/bin/sh
# Installs the Debian packages peerchat builds, tests and demos with.
# Does nothing (and needs no root) when every package is already there.
set -eu
PACKAGES="cmake g++ make pkg-config libpoco-dev libcppunit-dev libncurses-dev libsodium-dev libjemalloc-dev tmux socat tcpdump iproute2 nftables conntrack clang libclang-rt-14-dev coturn redis-server"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "make deps: installing$missing"
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q || { echo "make deps: apt-get update failed; check the network or apt sources" >&2; exit 1; }
$SUDO apt-get install -y -q --no-install-recommends $missing || {
  echo "make deps: could not install$missing; install them by hand and run make again" >&2; exit 1; }

# coturn's and redis-server's packages start system servers (turnserver on
# port 3478, Redis on 6379) where systemd runs (coturn's init.d script starts
# nothing unless /etc/default/coturn enables it); peerchat's tests and
# benchmarks start their own on private ports, with no system configuration.
for service in coturn redis-server; do
  case " $missing " in
  *" $service "*)
    if [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now "$service" || {
        echo "make deps: could not stop the system $service; stop it with: systemctl disable --now $service" >&2; exit 1; }
    fi ;;
  esac
done
