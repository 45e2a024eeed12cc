package main

import (
	"context"
	"fmt"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kbuild"
	"github.com/selfptrace/selfptrace-vm/report"
)

func runBuild(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet("build", e.stderr, "--arch "+arch.Usage(true)+" [--vanilla] [--kernel-src P]")
	c.register(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := notWith(fs, true, "to build: it boots nothing (the build's progress is on standard error)", "v"); err != nil {
		return err
	}
	if err := c.finish(true); err != nil {
		return err
	}
	for _, a := range c.archs {
		o := c.kbuildOptions(a)
		o.Progress = &progress.Text{W: e.stderr}
		k, err := kbuild.Build(ctx, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "[%s] kernel %s (%s, %s) in %.1fs\n", a.Name, k.Release, report.Flavor(k.Patched), report.CacheState(k.CacheHit), report.Seconds(k.Duration))
		fmt.Fprintln(e.stdout, k.Image)
	}
	return nil
}

func runCacheKey(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet("cache-key", e.stderr, "--arch "+arch.Usage(true)+" [--vanilla] [--kernel-src P]")
	c.register(fs, true)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if err := notWith(fs, true, "to cache-key: it prints keys and builds nothing", "v", "j"); err != nil {
		return err
	}
	if err := c.finish(true); err != nil {
		return err
	}
	for _, a := range c.archs {
		key, err := kbuild.Key(ctx, c.kbuildOptions(a))
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s-%s\n", a.Name, key[:32])
	}
	return nil
}
