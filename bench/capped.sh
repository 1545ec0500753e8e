#!/bin/bash
# capped LIMIT CMD...: run CMD in a child memory cgroup (v1) of this shell's own, limited to LIMIT bytes; systemd-run --user --scope -p MemoryMax= does not work here (no user bus)
lim=$1; shift
C=/sys/fs/cgroup/memory$(grep ':memory:' /proc/self/cgroup | cut -d: -f3)/fastcls-cap
mkdir -p $C && echo $lim > $C/memory.limit_in_bytes
sh -c "echo \$\$ > $C/cgroup.procs; exec \"\$@\"" capped "$@"
rc=$?
echo "cgroup $C: limit $(cat $C/memory.limit_in_bytes), max usage $(cat $C/memory.max_usage_in_bytes), failcnt $(cat $C/memory.failcnt), $(grep oom_kill $C/memory.oom_control | tr '\n' ' ')" >&2
echo $$ > $(dirname $C)/cgroup.procs 2>/dev/null; rmdir $C 2>/dev/null
exit $rc
