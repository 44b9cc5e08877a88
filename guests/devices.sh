#!/bin/sh
# Devices of a guest that needs them, by name: creates fresh disk images in DIR and prints the
# QEMU options that attach them. Used by the Makefile (golden files) and the differential test
# (test/support/guest-devices.ts reads the same images), so both run against identical disks.
#
#   devices.sh <guest> <dir>
#
# virtio-blk*: slot 31 = disk0.img (64 KiB, read-write, serial tagvisor-disk0),
#              slot 30 = disk1.img (16 KiB, read-only, serial tagvisor-disk1).
# virtio-console*: slot 31 = a console whose input is console.in ("hello from the host\n") and
#              whose output goes to console.out.
set -eu
guest=$1
dir=$2
case $guest in
  virtio-blk*)
    dd if=/dev/zero of="$dir/disk0.img" bs=1024 count=64 2>/dev/null
    printf 'TAGVISOR DISK 0\n' | dd of="$dir/disk0.img" conv=notrunc 2>/dev/null
    printf 'SECTOR ONE' | dd of="$dir/disk0.img" bs=512 seek=1 conv=notrunc 2>/dev/null
    dd if=/dev/zero of="$dir/disk1.img" bs=1024 count=16 2>/dev/null
    printf 'TAGVISOR DISK 1 (READ-ONLY)\n' | dd of="$dir/disk1.img" conv=notrunc 2>/dev/null
    echo "-drive file=$dir/disk0.img,if=none,format=raw,id=d0 -device virtio-blk-device,drive=d0,serial=tagvisor-disk0" \
         "-drive file=$dir/disk1.img,if=none,format=raw,id=d1,readonly=on -device virtio-blk-device,drive=d1,serial=tagvisor-disk1"
    ;;
  virtio-console*)
    printf 'hello from the host\n' > "$dir/console.in"
    echo "-device virtio-serial-device -chardev file,id=vc0,path=$dir/console.out,input-path=$dir/console.in" \
         "-device virtconsole,chardev=vc0"
    ;;
esac
