// Package userland holds guest tests that run real programs of a Debian
// root filesystem under the guest kernel: shell pipelines, tar and gzip,
// sqlite3, threaded xz and sort, fork and exec, signals and timers, each
// natively and under the real strace (-f, -e inject, --seccomp-bpf), and
// strace attached to a thread armed with self-ptrace.
//
// The tests live in package userland_test; this file only makes the
// package exist. The guest runner unpacks the Debian root at the path given
// by SELFPTRACE_VM_USERLAND and mounts proc, sysfs, devtmpfs and a tmpfs at
// its /proc, /sys, /dev and /tmp. Without it every test fails.
package userland
