#!/bin/bash
# Builds the tiny QEMU guest Sluice's VM tests, `./sluice demo --vms qemu` and `./sluice bench vms`
# boot (after ../shared/recipes/vhost-kvm-guest): Debian's kernel (linux-image-amd64, unpacked with
# dpkg-deb, never installed) and an initramfs with busybox-static, the virtio-net modules and the
# host's real ip, ping, ethtool and iperf3 with the libraries ldd lists. /init is guest-init.sh.
#
# Usage: bench/vm/build-guest.sh [DIR]     (DIR default: $SLUICE_VM_DIR or /var/tmp/sluice-vm)
# Output: DIR/vmlinux (PVH ELF, booted by QEMU -kernel), DIR/vmlinuz, DIR/initramfs.gz. Cached: the
# kernel is downloaded once; the initramfs is rebuilt only when guest-init.sh or this script is newer.
# Installs the Debian packages it needs with apt-get when they are missing. Prints the directory last.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:-${SLUICE_VM_DIR:-/var/tmp/sluice-vm}}
mkdir -p "$WORK"; cd "$WORK"
exec 9>"$WORK/.build.lock"; flock 9   # two builders (a test and a demo) at once: one waits

PKGS=(qemu-system-x86 busybox-static cpio iperf3 ethtool iproute2 iputils-ping xz-utils file)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build-guest: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# 1. kernel: the package linux-image-amd64 depends on, unpacked (no update-initramfs/grub on the host)
if ! ls kernel/boot/vmlinuz-* >/dev/null 2>&1; then
  KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$KPKG" ] || { apt-get update -q >/dev/null; KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}'); }
  echo "build-guest: kernel package $KPKG" >&2
  rm -f ./*.deb
  apt-get download "$KPKG" >&2
  rm -rf kernel.tmp; dpkg-deb -x "$KPKG"_*.deb kernel.tmp
  rm -f "$KPKG"_*.deb; rm -rf kernel; mv kernel.tmp kernel
  rm -f vmlinux initramfs.gz
fi
VMLINUZ=$(ls kernel/boot/vmlinuz-* | head -1)
KVER=${VMLINUZ##*/vmlinuz-}
ln -sf "$VMLINUZ" vmlinuz
# the uncompressed ELF: QEMU boots it through the PVH entry point (CONFIG_PVH=y), no SeaBIOS, no xz
if [ ! -s vmlinux ]; then
  off=$(grep -abo $'\xfd7zXZ' "$VMLINUZ" | head -1 | cut -d: -f1)
  tail -c +$((off+1)) "$VMLINUZ" | xz -dc --single-stream > vmlinux.tmp 2>/dev/null || true
  file vmlinux.tmp | grep -q ELF || { echo "build-guest: vmlinux extraction failed" >&2; rm -f vmlinux.tmp; exit 1; }
  mv vmlinux.tmp vmlinux
fi

# 2. initramfs (rebuilt when the init script or this script changed)
if [ ! -s initramfs.gz ] || [ "$HERE/guest-init.sh" -nt initramfs.gz ] || [ "$0" -nt initramfs.gz ]; then
  rm -rf rootfs; mkdir -p rootfs/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,etc,lib/modules}
  cp /bin/busybox rootfs/bin/busybox
  for a in $(/bin/busybox --list-full); do
    [ -e "rootfs/$a" ] || ln -s /bin/busybox "rootfs/$a"
  done
  copy_with_libs() {
    local bin; bin=$(readlink -f "$(command -v "$1")")
    rm -f "rootfs/usr/bin/$1"; cp "$bin" "rootfs/usr/bin/$1"
    for lib in $(ldd "$bin" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
      [ -e "rootfs$lib" ] || cp -L --parents "$lib" rootfs/
    done
  }
  for t in ip ping ethtool iperf3; do copy_with_libs $t; done
  MODDIR=kernel/lib/modules/$KVER/kernel
  for m in drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
           drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover \
           drivers/net/net_failover drivers/net/virtio_net; do
    f=$(ls $MODDIR/$m.ko* | head -1)
    case $f in *.xz) xz -dc "$f" > rootfs/lib/modules/$(basename $m).ko ;;
               *) cp "$f" rootfs/lib/modules/ ;; esac
  done
  install -m 755 "$HERE/guest-init.sh" rootfs/init
  mknod -m 600 rootfs/dev/console c 5 1 2>/dev/null || true
  echo "root:x:0:0:root:/:/bin/sh" > rootfs/etc/passwd
  (cd rootfs && find . | cpio -o -H newc --quiet) | gzip -1 > initramfs.tmp
  mv initramfs.tmp initramfs.gz
  rm -rf rootfs
fi
echo "$WORK"
