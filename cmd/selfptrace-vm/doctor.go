package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/vm"
)

func runDoctor(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet("doctor", e.stderr, "[--cache-dir DIR]")
	cacheDir := fs.String("cache-dir", cacheentry.DefaultRoot(), "cache of the KVM probe's verdict (and of builds); env "+cacheentry.EnvRoot)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	var missing []string
	for _, t := range hosttools.All(arch.All()) {
		if p, err := exec.LookPath(t.Name); err == nil {
			fmt.Fprintf(e.stdout, "ok       %-26s %s (%s)\n", t.Name, p, stepList(t.Steps))
		} else {
			fmt.Fprintf(e.stdout, "MISSING  %-26s %s (%s)\n", t.Name, t.InstallHint(), stepList(t.Steps))
			missing = append(missing, t.Name)
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
		// The rig cannot do its work without them: exit 3, as every
		// verb that meets a missing tool.
		return fmt.Errorf("%d host dependencies missing (%s); run make deps", len(missing), strings.Join(missing, ", "))
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

// stepList says which steps need a tool, for doctor's lines.
func stepList(steps []hosttools.Step) string {
	s := make([]string, len(steps))
	for i, st := range steps {
		s[i] = string(st)
	}
	return "for " + strings.Join(s, ", ")
}
