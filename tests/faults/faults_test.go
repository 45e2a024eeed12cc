// Package faults holds guest tests that misbehave on purpose, so that the
// rig's end-to-end tests can check how it copes. It is never part of the
// default suite.
package faults

import (
	"testing"
	"time"
)

// TestHang never returns: the runner's per-test timeout must end it.
func TestHang(t *testing.T) {
	t.Log("hanging on purpose")
	time.Sleep(24 * time.Hour)
}

// TestAfterHang must still run and report after TestHang was killed.
func TestAfterHang(t *testing.T) {}
