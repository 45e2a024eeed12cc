package kselftest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// rigCache is where the rig keeps its kernel trees.
func rigCache(t *testing.T) string { return cacheentry.DefaultRoot() }

// TestBuildTrees builds every program, benchmarks included, for each arch
// from each kernel tree the rig has unpacked (patched and vanilla), into a
// fresh cache, then checks the binaries, the cache and the recipe table
// against the tree's Makefiles.
func TestBuildTrees(t *testing.T) {
	if testing.Short() {
		t.Skip("builds kernel headers and selftests; skipped with -short")
	}
	root := rigCache(t)
	cache := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	for _, a := range arch.All() {
		t.Run(a.Name, func(t *testing.T) {
			built := map[string][]Binary{}
			for _, flavor := range []string{"patched", "vanilla"} {
				src := filepath.Join(root, "work", a.Name+"-"+flavor, "src")
				if _, err := os.Stat(filepath.Join(src, "tools/testing/selftests/lib.mk")); err != nil {
					t.Logf("no %s tree at %s", flavor, src)
					continue
				}
				t.Run(flavor, func(t *testing.T) {
					built[flavor] = checkTree(ctx, t, a, src, cache)
				})
			}
			if len(built) == 0 {
				t.Skipf("no %s kernel tree under %s/work", a.Name, root)
			}
			if p, v := built["patched"], built["vanilla"]; p != nil && v != nil {
				for i := range p {
					same := p[i].SHA256 == v[i].SHA256
					t.Logf("%s: patched and vanilla binaries identical: %v", p[i].Name, same)
				}
			}
		})
	}
}

func checkTree(ctx context.Context, t *testing.T, a arch.Spec, src, cache string) []Binary {
	o := Options{Arch: a, SourceDir: src, CacheDir: cache, Benchmarks: true, Series: checkoutSeries(t)}
	start := time.Now()
	bins, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cold build: %s", time.Since(start).Round(time.Millisecond))
	var names []string
	for _, b := range bins {
		names = append(names, b.Name)
		if err := CheckStatic(b.Path, a); err != nil {
			t.Error(err)
		}
		if sum, err := fsutil.HashFile(b.Path); err != nil || sum != b.SHA256 {
			t.Errorf("%s: checksum %s, %v; want %s", b.Name, sum, err, b.SHA256)
		}
		if b.Timeout <= 0 {
			t.Errorf("%s: timeout %v", b.Name, b.Timeout)
		}
	}
	t.Logf("built %v", names)
	if !slices.Contains(names, "self_ptrace_test") {
		t.Error("self_ptrace_test not built (neither from the tree nor from the series)")
	}

	// Every program the tree's Makefiles list is in the table, and back.
	// A suite of the series that the tree lacks is checked against the
	// series by TestSeriesAddsSelfPtrace.
	suites := map[string][]string{}
	series := map[string]bool{}
	for _, r := range recipes {
		suites[r.Suite] = append(suites[r.Suite], r.Name)
		series[r.Suite] = series[r.Suite] || r.Series
	}
	for suite, want := range suites {
		mk, err := os.ReadFile(filepath.Join(src, "tools/testing/selftests", suite, "Makefile"))
		if errors.Is(err, os.ErrNotExist) && series[suite] {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := makefilePrograms(mk)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s/Makefile builds %v, the recipe table has %v", suite, got, want)
		}
	}

	// Second build: a cache hit with the same files.
	start = time.Now()
	again, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cached build: %s", time.Since(start).Round(time.Millisecond))
	if !slices.Equal(again, bins) {
		t.Errorf("second build differs:\n%v\n%v", again, bins)
	}

	// A damaged entry is rebuilt.
	if err := os.Truncate(bins[0].Path, 100); err != nil {
		t.Fatal(err)
	}
	fixed, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum, err := fsutil.HashFile(fixed[0].Path); err != nil || sum != bins[0].SHA256 {
		t.Errorf("damaged %s not rebuilt: %s, %v", bins[0].Name, sum, err)
	}

	// The default selection leaves the benchmarks out.
	o.Benchmarks = false
	def, err := Build(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range def {
		if b.Benchmark {
			t.Errorf("%s built without Benchmarks", b.Name)
		}
	}
	return bins
}

func TestBuildCanceled(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a kernel tree")
	}
	a, _ := arch.Lookup("x86_64")
	src := filepath.Join(rigCache(t), "work", "x86_64-patched", "src")
	if _, err := os.Stat(filepath.Join(src, "Makefile")); err != nil {
		t.Skip("no x86_64 tree")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, Options{Arch: a, SourceDir: src, CacheDir: t.TempDir()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Build with a canceled context: %v", err)
	}
}
