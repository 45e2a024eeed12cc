// Command ksbuild builds the kselftests of one tree and prints one line per
// binary, "name path", for checking them by hand (see guestinit):
//
//	go run ./kselftest/testdata/ksbuild -arch s390x -src ~/.cache/selfptrace-vm/work/s390x-vanilla/src
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/progress"
	"github.com/selfptrace/selfptrace-vm/kselftest"
)

func run() error {
	fs := flag.NewFlagSet("ksbuild", flag.ContinueOnError)
	archName := fs.String("arch", "x86_64", "architecture")
	src := fs.String("src", "", "kernel source tree")
	cache := fs.String("cache-dir", "", "cache (default ~/.cache/selfptrace-vm)")
	bench := fs.Bool("benchmarks", false, "also build the benchmarks")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return err
	}
	a, err := arch.Lookup(*archName)
	if err != nil {
		return err
	}
	if *cache == "" {
		*cache = cacheentry.DefaultRoot()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	start := time.Now()
	bins, err := kselftest.Build(ctx, kselftest.Options{Arch: a, SourceDir: *src, CacheDir: *cache, Benchmarks: *bench,
		Progress: &progress.Text{W: os.Stderr, Interval: time.Second}})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "ksbuild: %d binaries in %s\n", len(bins), time.Since(start).Round(time.Millisecond))
	for _, b := range bins {
		fmt.Printf("%s %s %s\n", b.Name, b.Path, b.Timeout)
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ksbuild:", err)
		os.Exit(1)
	}
}
