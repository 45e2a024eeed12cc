// Package broken does not compile, on purpose: the packer's tests check how
// a compile error is reported.
package broken

import "testing"

func TestBroken(t *testing.T) {
	var n int = "not a number"
	_ = n
}
