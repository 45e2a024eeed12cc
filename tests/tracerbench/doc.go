// Package tracerbench measures what selftrace (tools/selftrace) costs a
// real program, against strace: workloads of the Debian userland (dd with
// one-byte blocks, a sqlite3 insert loop, tar and gzip of a tree) run
// natively, under selftrace with each backend, under strace, and with a
// filter that traces one rare call (selftrace -e trace=execve, strace
// --seccomp-bpf -e trace=execve). The bench verb runs it with
// `--userland debian` and reads its WORKLOAD lines (bench/benchfmt).
//
// The tests live in package tracerbench_test; this file only makes the
// package exist. The guest runner unpacks the Debian root at the path given
// by SELFPTRACE_VM_USERLAND; without it the test fails.
package tracerbench
