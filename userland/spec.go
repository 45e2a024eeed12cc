// Package userland makes the guest's Debian userland: a root file system
// built from Debian's own packages for the guest's architecture with
// mmdebstrap, packed as a cpio archive that the initramfs carries under
// GuestRoot. The guest runner stays the init; programs of the userland run
// chrooted into GuestRoot.
//
// The archive is cached content-addressed (Ensure): its key holds the
// suite, the Debian architecture, the package set and the versions that apt
// resolved. A second run with the same request finds it without the
// network; a failed or interrupted build leaves no entry; a damaged entry
// is found (checksums) and rebuilt.
package userland

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// GuestRoot is where the userland is in the guest.
const GuestRoot = "/debian"

// Distro is the only distribution --userland knows.
const Distro = "debian"

// DefaultPackages is the package set of --userland debian: enough for the
// userland tests (a busybox shell, tar and its compressors, sqlite3, a
// threaded program: xz -T and sort --parallel, fork and exec: find and
// xargs, signals and timers: timeout and bash traps) and for a person at
// the shell (bash, grep, sed, less, libc-bin's C.UTF-8 locale and
// getent; ps and top come from busybox), and strace. Not procps: through init-system-helpers it pulls usrmerge, and
// with it perl, which would double the root.
func DefaultPackages() []string {
	return []string{
		"bash", "busybox", "coreutils", "findutils", "grep", "gzip", "less",
		"libc-bin", "sed", "sqlite3", "strace", "tar", "xz-utils",
	}
}

// Spec is what --userland asks for: debian, or debian:PKG,PKG... for extra
// packages on top of DefaultPackages.
type Spec struct {
	Extra []string
}

// packageName is Debian policy's form of a package name (section 5.6.1).
var packageName = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]+$`)

// Parse reads a --userland value.
func Parse(s string) (Spec, error) {
	distro, pkgs, hasPkgs := strings.Cut(s, ":")
	if distro != Distro {
		return Spec{}, fmt.Errorf("unknown userland %q: want %s or %s:PKG,PKG...", s, Distro, Distro)
	}
	var spec Spec
	if !hasPkgs {
		return spec, nil
	}
	for _, p := range strings.Split(pkgs, ",") {
		p = strings.TrimSpace(p)
		if !packageName.MatchString(p) {
			return Spec{}, fmt.Errorf("userland %q: %q is not a Debian package name (lower case letters, digits, + - and .; at least two characters)", s, p)
		}
		spec.Extra = append(spec.Extra, p)
	}
	return spec, nil
}

// Packages is the whole package set, sorted, each once.
func (s Spec) Packages() []string {
	out := append(DefaultPackages(), s.Extra...)
	slices.Sort(out)
	return slices.Compact(out)
}

// String is the --userland value that asks for s.
func (s Spec) String() string {
	if len(s.Extra) == 0 {
		return Distro
	}
	return Distro + ":" + strings.Join(s.Extra, ",")
}
