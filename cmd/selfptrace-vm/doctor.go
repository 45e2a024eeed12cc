package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/vm"
)

// hostTools lists every host program the rig uses, with its Debian package.
func hostTools() []kbuild.Tool {
	seen := map[string]bool{}
	var out []kbuild.Tool
	add := func(t kbuild.Tool) {
		if !seen[t.Name] {
			seen[t.Name] = true
			out = append(out, t)
		}
	}
	for _, a := range arch.All() {
		for _, t := range kbuild.Tools(a) {
			add(t)
		}
		add(kbuild.Tool{Name: a.QEMU, Package: a.QEMUPackage})
	}
	add(kbuild.Tool{Name: "go", Package: "golang (Go 1.26 from go.dev)"})
	add(kbuild.Tool{Name: "gdb-multiarch", Package: "gdb-multiarch (only for shell --gdb)"})
	return out
}

func runDoctor(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("doctor", e.stderr, "[--cache-dir DIR]")
	cacheDir := fs.String("cache-dir", defaultCacheDir(), "cache of the KVM probe's verdict (and of builds); env SELFPTRACE_VM_CACHE")
	if err := parse(fs, args); err != nil {
		return err
	}
	var missing []string
	for _, t := range hostTools() {
		if p, err := exec.LookPath(t.Name); err == nil {
			fmt.Fprintf(e.stdout, "ok       %-26s %s\n", t.Name, p)
		} else {
			fmt.Fprintf(e.stdout, "MISSING  %-26s apt-get install %s\n", t.Name, t.Package)
			missing = append(missing, t.Package)
		}
	}
	if _, err := os.Stat(kbuild.DefaultSource); err == nil {
		fmt.Fprintf(e.stdout, "ok       %-26s %s\n", "kernel source", kbuild.DefaultSource)
	} else {
		fmt.Fprintf(e.stdout, "MISSING  %-26s apt-get install linux-source-6.12 (or pass --kernel-src)\n", "kernel source")
		missing = append(missing, "linux-source-6.12")
	}
	for _, a := range arch.All() {
		// The same choice as test, run and shell: the same probe, the
		// same cache.
		var probe string
		choice, err := vm.ChooseAccel(a, vm.AccelAuto, runtime.GOARCH, func() (vm.KVMVerdict, error) {
			v, err := vm.CheckKVM(ctx, a, *cacheDir)
			probe = probeCost(v)
			return v, err
		})
		if err != nil {
			fmt.Fprintf(e.stdout, "note     %-26s %v\n", a.Name+" accelerator", err)
			continue
		}
		fmt.Fprintf(e.stdout, "ok       %-26s %s%s\n", a.Name+" accelerator", choice, probe)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return failure{fmt.Sprintf("%d host dependencies missing; run make deps", len(missing))}
	}
	return nil
}

// probeCost says what a KVM verdict cost this run.
func probeCost(v vm.KVMVerdict) string {
	if v.Cached {
		return fmt.Sprintf(" [KVM probe: cached, it took %s]", v.Took.Round(time.Millisecond))
	}
	return fmt.Sprintf(" [KVM probe: %s]", v.Took.Round(time.Millisecond))
}
