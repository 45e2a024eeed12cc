package kbuild

import (
	"fmt"
	"strings"
)

// Profile is a named variant of the guest kernels: a config fragment on top
// of common.config and the arch's fragment, its own cache key and work tree,
// and the kernel arguments its kernels boot with.
type Profile struct {
	// Name is what --profile takes.
	Name string
	// Fragment is the config fragment in the config directory, applied
	// after the arch's (empty: none).
	Fragment string
	// KernelArgs are added to the command line of every boot of its kernels.
	KernelArgs []string
	// Slowdown multiplies the guest's timeouts: instrumented kernels run
	// several times slower, under TCG even more.
	Slowdown int
	// About says what the profile is for (the --profile help).
	About string
}

// DefaultProfile is the profile of a plain build.
const DefaultProfile = "default"

// Profiles is the table of profiles.
func Profiles() []Profile {
	return []Profile{
		{Name: DefaultProfile, Slowdown: 1, About: "the lean guest kernel"},
		{
			Name:     "debug",
			Fragment: "debug.config",
			// A warning of any kind (lockdep, KASAN, UBSAN, might_sleep)
			// ends the run as a panic: nothing is reported and then
			// forgotten.
			KernelArgs: []string{"panic_on_warn=1"},
			Slowdown:   4,
			About:      "lockdep, DEBUG_ATOMIC_SLEEP, KASAN, UBSAN, no stack initialisation, panic_on_warn",
		},
	}
}

// ParseProfile returns the profile called name ("" is the default).
func ParseProfile(name string) (Profile, error) {
	if name == "" {
		name = DefaultProfile
	}
	var names []string
	for _, p := range Profiles() {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Profile{}, fmt.Errorf("unknown profile %q (want %s)", name, strings.Join(names, " or "))
}

// IsDefault tells whether p is the plain build (the zero Profile is).
func (p Profile) IsDefault() bool { return p.Name == "" || p.Name == DefaultProfile }

// name is the profile's name, DefaultProfile for the zero value.
// Label is the profile's name as reports show it (the default profile's
// name for the zero Profile).
func (p Profile) Label() string { return p.name() }

func (p Profile) name() string {
	if p.IsDefault() {
		return DefaultProfile
	}
	return p.Name
}

// suffix is added to the flavor in the names of the work tree and lock.
func (p Profile) suffix() string {
	if p.IsDefault() {
		return ""
	}
	return "-" + p.Name
}
