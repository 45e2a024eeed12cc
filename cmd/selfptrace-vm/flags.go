package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/kbuild"
)

var errHelp = errors.New("help requested")

// common holds the flags every verb that builds a kernel shares.
type common struct {
	archFlag  string
	kernelSrc string
	vanilla   bool
	asIs      bool
	profile   string
	prof      kbuild.Profile
	cacheDir  string
	root      string
	jobs      int
	verbose   bool
	archs     []arch.Spec
}

func (c *common) register(fs *flag.FlagSet, multiArch bool) {
	help := "architecture: " + strings.Join(arch.Names(), ", ")
	if note := arch.AliasNote(); note != "" {
		help += " (" + note + ")"
	}
	def := runtimeArch()
	if multiArch {
		help += ", a comma-separated list, or all"
	}
	fs.StringVar(&c.archFlag, "arch", def, help)
	fs.StringVar(&c.kernelSrc, "kernel-src", kbuild.DefaultSource, "kernel source: a tarball, an unpacked tree or a git checkout")
	fs.BoolVar(&c.vanilla, "vanilla", false, "build without the patch series (negative control)")
	fs.BoolVar(&c.asIs, "as-is", false, "build --kernel-src exactly as it is, without applying the series, and label the kernel as-is (your own kernel tree, with the series committed in it or not)")
	fs.StringVar(&c.profile, "profile", kbuild.DefaultProfile, "kernel profile: "+profileHelp())
	fs.StringVar(&c.cacheDir, "cache-dir", cacheentry.DefaultRoot(), "build cache (kernels, source trees, images); env "+cacheentry.EnvRoot)
	fs.StringVar(&c.root, "root", "", "the selfptrace-vm checkout holding patches/, configs/ and tests/ (default: found from the working directory)")
	fs.IntVar(&c.jobs, "j", runtime.NumCPU(), "parallel make jobs")
	fs.BoolVar(&c.verbose, "v", false, "verbose: print the exact QEMU command line and stream the console")
}

// finish validates the shared flags after parsing.
func (c *common) finish(multiArch bool) error {
	if c.asIs && c.vanilla {
		return usagef("--as-is and --vanilla: a kernel is one or the other (--as-is builds --kernel-src as it is)")
	}
	if !multiArch && (c.archFlag == "all" || strings.Contains(c.archFlag, ",")) {
		return usagef("--arch takes one architecture here (%s)", strings.Join(arch.Names(), ", "))
	}
	var err error
	if c.archs, err = arch.Parse(c.archFlag); err != nil {
		return usagef("%v", err)
	}
	if c.prof, err = kbuild.ParseProfile(c.profile); err != nil {
		return usagef("--profile: %v", err)
	}
	if c.root == "" {
		if c.root, err = findRoot(); err != nil {
			return err
		}
	}
	if c.jobs < 1 {
		return usagef("-j must be at least 1")
	}
	return nil
}

func (c *common) kbuildOptions(a arch.Spec) kbuild.Options {
	return kbuild.Options{
		Arch:      a,
		Source:    c.kernelSrc,
		SeriesDir: filepath.Join(c.root, "patches", "linux-6.12"),
		Vanilla:   c.vanilla,
		AsIs:      c.asIs,
		ConfigDir: filepath.Join(c.root, "configs"),
		Profile:   c.prof,
		CacheDir:  c.cacheDir,
		Jobs:      c.jobs,
	}
}

// profileHelp lists the profiles for --profile's help.
func profileHelp() string {
	var parts []string
	for _, p := range kbuild.Profiles() {
		parts = append(parts, p.Name+" ("+p.About+")")
	}
	return strings.Join(parts, ", ")
}

func runtimeArch() string {
	for _, a := range arch.All() {
		if a.GOARCH == runtime.GOARCH {
			return a.Name
		}
	}
	return "x86_64"
}

// findRoot walks up from the working directory to the checkout that holds
// patches/ and tests/.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isRoot(dir) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("cannot find the selfptrace-vm checkout (patches/ and tests/) above the working directory; run from the checkout or pass --root")
		}
		dir = parent
	}
}

func isRoot(dir string) bool {
	for _, p := range []string{"go.mod", "patches", "configs", "tests"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			return false
		}
	}
	return true
}

// newFlagSet makes a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printHelp(stderr, fs, usage) }
	return fs
}

// parse parses args and maps flag errors to usage errors. The flag
// package would print the error and every flag before we print the error
// again: a mistyped flag gets one line, naming where the flags are listed.
func parse(fs *flag.FlagSet, args []string) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = usage
	fs.SetOutput(out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return errHelp
		}
		return usagef("%v ('selfptrace-vm help %s' lists the flags)", err, fs.Name())
	}
	return nil
}

// filepathJoinDir returns name in the directory of file.
func filepathJoinDir(file, name string) string { return filepath.Join(filepath.Dir(file), name) }

// flagSet reports whether the flag called name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// notWith refuses the flags names when cond holds: a verb takes only the
// flags it uses, and a flag that cannot apply is a usage error naming the
// conflict (why), never silently ignored.
func notWith(fs *flag.FlagSet, cond bool, why string, names ...string) error {
	if !cond {
		return nil
	}
	for _, n := range names {
		if flagSet(fs, n) {
			return usagef("--%s does not apply %s", n, why)
		}
	}
	return nil
}

// noArgs refuses positional arguments.
func noArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return usagef("unexpected arguments: %v", fs.Args())
	}
	return nil
}

// readSeriesFlag reads the series of --series, or the checkout's: a
// --series that names no series is a usage error naming the flag.
func readSeriesFlag(fs *flag.FlagSet, seriesDir, root string) ([]kbuild.Patch, error) {
	if seriesDir == "" {
		seriesDir = filepath.Join(root, "patches", "linux-6.12")
	}
	series, err := kbuild.ReadSeries(seriesDir)
	if err != nil && flagSet(fs, "series") {
		return nil, usagef("--series %s: %v", seriesDir, err)
	}
	return series, err
}
