package vm

import (
	"context"
	"errors"
	"fmt"
)

// KernelError says that the guest kernel is broken: it crashed, failed to
// boot, hung, or logged a warning. The rig itself worked.
type KernelError struct {
	Outcome Outcome
	Reason  string
	LogPath string
}

func (e *KernelError) Error() string {
	return fmt.Sprintf("%s: %s (console log: %s)", e.Outcome, e.Reason, e.LogPath)
}

// InfraError says that the rig is broken: QEMU could not start, failed, or
// was killed from outside, or the console log could not be written.
type InfraError struct {
	// Op is what was being done ("starting QEMU", "writing console log").
	Op      string
	Err     error
	LogPath string

	// notStarted marks the failure to start QEMU, which Run turns into
	// a qemu_error Result.
	notStarted bool
	argv       []string
}

func (e *InfraError) Error() string {
	s := e.Op + ": " + e.Err.Error()
	if e.LogPath != "" {
		s += " (console log: " + e.LogPath + ")"
	}
	return s
}

func (e *InfraError) Unwrap() error { return e.Err }

// CanceledError says that the run was stopped by its caller before it
// ended. It wraps the cause (context.Canceled for a plain cancel).
type CanceledError struct {
	Cause   error
	LogPath string
}

func (e *CanceledError) Error() string {
	return fmt.Sprintf("run canceled: %v (console log: %s)", e.Cause, e.LogPath)
}

func (e *CanceledError) Unwrap() error { return e.Cause }

// Err returns nil for a run that passed, and otherwise an error typed by
// who is to blame: *KernelError, *InfraError or *CanceledError.
func (r Result) Err() error {
	switch r.Outcome {
	case OutcomePass:
		return nil
	case OutcomeQEMUError:
		err := r.cause
		if err == nil {
			err = errors.New(r.Reason)
		}
		return &InfraError{Op: "running QEMU", Err: err, LogPath: r.LogPath}
	case OutcomeCanceled:
		cause := r.cause
		if cause == nil {
			cause = context.Canceled
		}
		return &CanceledError{Cause: cause, LogPath: r.LogPath}
	}
	return &KernelError{Outcome: r.Outcome, Reason: r.Reason, LogPath: r.LogPath}
}
