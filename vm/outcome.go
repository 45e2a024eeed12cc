package vm

// Outcome is the verdict of one run on one architecture. It is the one
// outcome type of the rig: Classify decides it from the console and the
// way QEMU ended, the rig combines it with the guest's test results
// through Worse, and report.Run keeps it.
type Outcome string

const (
	// OutcomePass: the guest ran to completion and nothing failed. From
	// Classify it means the kernel reported no problem; whether the
	// tests passed is for KTAP to say (see Worse).
	OutcomePass Outcome = "pass"
	// OutcomeFail: the guest ran to completion, but a test failed, timed
	// out or never reported, or the kernel logged a warning-level report
	// (WARNING, stall, UBSAN).
	OutcomeFail Outcome = "fail"
	// OutcomeTimeout: the guest booted but did not finish in time.
	OutcomeTimeout Outcome = "timeout"
	// OutcomePanic: the kernel crashed (panic, Oops, BUG, fault).
	OutcomePanic Outcome = "panic"
	// OutcomeBootFail: the kernel never reached the boot marker.
	OutcomeBootFail Outcome = "boot_fail"
	// OutcomeCanceled: the run was stopped by its caller (Ctrl-C, context,
	// Machine.Stop) or by a quit on the QEMU monitor.
	OutcomeCanceled Outcome = "canceled"
	// OutcomeQEMUError: QEMU failed or was killed: the rig is broken, not
	// (necessarily) the kernel.
	OutcomeQEMUError Outcome = "qemu_error"
	// OutcomeRigError: the rig failed before QEMU ran (kernel build,
	// patch, image, accelerator, QEMU command line). Classify never
	// returns it.
	OutcomeRigError Outcome = "rig_error"
)

var severity = map[Outcome]int{
	OutcomePass:      0,
	OutcomeFail:      1,
	OutcomeTimeout:   2,
	OutcomePanic:     3,
	OutcomeBootFail:  4,
	OutcomeCanceled:  5,
	OutcomeQEMUError: 6,
	OutcomeRigError:  7,
}

// Completed reports whether the guest ran to its end, so that its test
// results (KTAP) are complete and meaningful.
func (o Outcome) Completed() bool { return o == OutcomePass || o == OutcomeFail }

// Worse returns the more severe of two outcomes. It is how a run's verdict
// is combined with the verdict of the tests it ran: Worse(vmOutcome,
// testsOutcome), testsOutcome being OutcomePass when the guest reported
// every planned test and all passed, OutcomeFail otherwise. A run that
// did not complete keeps its own outcome (every such outcome is worse
// than fail); a kernel warning fails a run whose tests passed. An unknown
// outcome counts as the worst.
func Worse(a, b Outcome) Outcome {
	if rank(b) > rank(a) {
		return b
	}
	return a
}

func rank(o Outcome) int {
	if r, ok := severity[o]; ok {
		return r
	}
	return len(severity)
}
