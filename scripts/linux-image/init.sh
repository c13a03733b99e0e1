#!/bin/sh
# /init of the Domus Linux test image. build.mjs replaces the at-sign-quoted words with the fixed lines of
# markers.json, which the tests and benchmarks match (docs/linux-guests.md).
# Everything runs from busybox-static: /bin/sh and the applets below are links to /bin/busybox.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "@MARKER@"
echo "@CPUS_PREFIX@$(cat /sys/devices/system/cpu/online) count=$(nproc)"
sum=$(dd if=/dev/zero bs=1M count=16 2>/dev/null | md5sum)
echo "@RESULT_PREFIX@${sum%% *}"
case " $(cat /proc/cmdline) " in
  *" @REBOOT_PARAMETER@ "*)
    echo "@REBOOT@"
    reboot -f
    ;;
  *" @HOTPLUG_PARAMETER@ "*)
    # xl vcpu-set: online every CPU that appears, as udev's rule would, run work pinned to it, and
    # report whenever the set of online CPUs changes. Runs until the domain is destroyed.
    echo "@HOTPLUG_WAITING@"
    last=$(cat /sys/devices/system/cpu/online)
    while :; do
      for c in /sys/devices/system/cpu/cpu[0-9]*; do
        if [ "$(cat "$c/online" 2>/dev/null)" = 0 ]; then
          echo 1 > "$c/online"
          n=${c##*cpu}
          sum=$(taskset -c "$n" sh -c 'dd if=/dev/zero bs=1M count=16 2>/dev/null | md5sum')
          echo "@HOTPLUG_WORK_PREFIX@$n: ${sum%% *}"
        fi
      done
      now=$(cat /sys/devices/system/cpu/online)
      if [ "$now" != "$last" ]; then
        echo "@CPUS_PREFIX@$now count=$(nproc)"
        last=$now
      fi
      sleep 1
    done
    ;;
  *)
    echo "@POWEROFF@"
    poweroff -f
    ;;
esac
# reboot -f and poweroff -f do not return; if they did, say so and let the kernel panic.
echo "@FAILED@"
exit 1
