// Package tracer holds guest tests of selftrace, the in-process system
// call tracer built on self-ptrace (tools/selftrace, see its DESIGN.md),
// run against real programs of the Debian root filesystem and the hazard
// test programs of tools/selftrace/testprogs:
//
//   - TestTransparency: every program prints the same bytes on stdout and
//     stderr and ends the same way under `selftrace -f -o FILE` as without
//     it.
//   - TestEquivalenceWithStrace (the Debian programs) and
//     TestEquivalenceHazards (the hazard programs): `strace -f ...
//     selftrace -f -o T CMD`; the program's calls derived from strace's
//     trace (package selftrace/tracecmp) are the calls selftrace printed,
//     with the same results.
//   - TestInject: `selftrace -e inject=...` changes the program's
//     behaviour exactly as `strace -e inject=...` does.
//   - TestSummary: the `-c` table counts what strace saw the program do.
//   - TestStaticProgram, TestWithoutFeature, TestSUDBackend: the
//     launcher's refusals and its other backend.
//
// The tests live in package tracer_test; this file only makes the package
// exist. Like tests/userland, they need the Debian root named by
// SELFPTRACE_VM_USERLAND (with strace, and with selftrace installed under
// /usr/local) and fail, never skip, without it. The tests that need the
// feature fail on a kernel without self-ptrace, naming PTRACE_SELF_ON;
// TestWithoutFeature and TestSUDBackend pass on both kernels.
package tracer
