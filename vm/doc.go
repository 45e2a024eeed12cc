// Package vm boots a kernel and initramfs under QEMU and judges the run.
//
// The package is split the way the judgement flows:
//
//   - Cmdline is a pure function that turns an arch.Spec and Options into a
//     QEMU argv. Each Option adds its QEMU arguments and the kernel arguments
//     it needs together, and inconsistent input is rejected.
//   - ChooseAccel picks KVM or TCG and says why: KVM only when ProbeKVM saw
//     QEMU's firmware run under it (CheckKVM caches the verdict per host
//     boot and QEMU binary); timeouts scale under TCG.
//   - Config.Argv is the complete QEMU argv of a run (accelerator, console
//     wiring and QMP socket included); Start runs exactly that argv and
//     hands it to Config.OnStart and Result.Argv.
//   - Start runs QEMU (always killed with the run), merges its stdout and
//     stderr into whole lines, saves them to a log file, streams them to an
//     optional writer, and watches three timers (boot marker, no output, whole
//     run). A Console offers expect-style waits to tests.
//   - A Detector scans console lines one at a time in a bounded window, and
//     Classify turns the lines, the exit status and the timer that fired into
//     a Verdict: pass, fail, timeout, panic, boot_fail, qemu_error or
//     canceled. Classify is pure and tested against golden logs in testdata/.
//   - Monitor talks QMP (query-status, quit, human-monitor-command) with every
//     call bounded by a context.
//
// Whether the tests inside the guest passed is decided from KTAP elsewhere;
// the run-level Outcome here says whether the guest ran to completion, and
// Worse combines both. Outcome is the rig's one outcome type: report.Run
// keeps it.
package vm
