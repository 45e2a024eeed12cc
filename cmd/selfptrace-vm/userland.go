package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/hosttools"
	"github.com/selfptrace/selfptrace-vm/userland"
)

// runUserland makes (or finds in the cache) the Debian userland of each
// architecture and prints its archive's path: what --userland puts in the
// image, without a kernel or a boot (CI caches, the e2e cache test).
func runUserland(ctx context.Context, e *env, args []string) error {
	var archFlag, spec, cacheDir string
	fs := newFlagSet("userland", e.stderr, "--arch "+arch.Usage(true)+" [--userland debian[:PKG,...]] [--cache-dir D]")
	fs.StringVar(&archFlag, "arch", runtimeArch(), "architecture: "+strings.Join(arch.Names(), ", ")+", a comma-separated list, or all")
	fs.StringVar(&spec, "userland", userland.Distro, "the userland: debian, or debian:PKG,PKG... for extra packages")
	fs.StringVar(&cacheDir, "cache-dir", cacheentry.DefaultRoot(), "build cache; env "+cacheentry.EnvRoot)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	archs, err := arch.Parse(archFlag)
	if err != nil {
		return usagef("%v", err)
	}
	s, err := userland.Parse(spec)
	if err != nil {
		return usagef("--userland: %v", err)
	}
	for _, a := range archs {
		if err := hosttools.Check(hosttools.Userland, a); err != nil {
			return err
		}
		rep := newReporter(e.stderr)
		rep.Phase(a.Name, "userland")
		img, err := userland.Ensure(ctx, userland.Options{
			Arch: a, Spec: s, CacheDir: filepath.Join(cacheDir, "userland"),
			Progress: func(msg string) { rep.Update(a.Name, msg) },
		})
		rep.Done(a.Name, err)
		if err != nil {
			return err
		}
		if img.Damaged != "" {
			fmt.Fprintf(e.stderr, "[%s] %s: made it again\n", a.Name, img.Damaged)
		}
		state := "made"
		if img.CacheHit {
			state = "cached"
		}
		fmt.Fprintf(e.stderr, "[%s] userland %s: Debian %s %s, %d packages, %.1f MB (%s) in %.1fs\n", a.Name, s, img.Info.Suite,
			img.Info.DebianArch, len(img.Info.Versions), float64(img.Info.ArchiveBytes)/1e6, state, img.Duration.Seconds())
		fmt.Fprintln(e.stdout, img.Archive)
	}
	return nil
}
