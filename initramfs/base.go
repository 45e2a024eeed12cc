package initramfs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/u-root/gobusybox/src/pkg/golang"
	"github.com/u-root/mkuimage/uimage"
	"github.com/u-root/uio/llog"

	"github.com/selfptrace/selfptrace-vm/initramfs/plan"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
)

// URootModule is the module whose commands make the base image. Its version
// is the one our go.mod requires.
const URootModule = "github.com/u-root/u-root"

const coreCmds = URootModule + "/cmds/core/"

// defaultCommands are the u-root commands of every base image: init, the
// shell, and enough tools to look around interactively.
var defaultCommands = []string{
	"init", "gosh",
	"cat", "cp", "date", "df", "dmesg", "echo", "find", "free", "grep", "head",
	"hexdump", "kill", "ln", "ls", "mkdir", "more", "mount", "mv", "poweroff",
	"ps", "pwd", "readlink", "rm", "shutdown", "sleep", "strace", "sync", "tail",
	"uname", "umount", "wc", "which",
}

// DefaultCommands returns the import paths of the u-root commands that every
// base image holds.
func DefaultCommands() []string {
	out := make([]string, len(defaultCommands))
	for i, c := range defaultCommands {
		out[i] = coreCmds + c
	}
	return out
}

// baseFormat versions the layout of the base image and of its cache key:
// change it whenever the base is built differently.
const baseFormat = "selfptrace-vm initramfs base v2"

// baseInputs is everything the base image depends on. Its key names the
// cache entry.
type baseInputs struct {
	GOARCH    string
	GoVersion string
	URoot     string // version and sum
	Mkuimage  string // version of the mkuimage library in this binary
	Gobusybox string // version of the gobusybox library in this binary
	Commands  []string
	Init      string
	Uinit     string
	Shell     string
}

// key returns the hex sha256 of the inputs, one "name=value" line each, in
// a fixed order after a format line.
func (b baseInputs) key() string {
	cmds := slices.Clone(b.Commands)
	slices.Sort(cmds)
	lines := []string{
		baseFormat,
		"goarch=" + b.GOARCH,
		"go=" + b.GoVersion,
		"u-root=" + b.URoot,
		"mkuimage=" + b.Mkuimage,
		"gobusybox=" + b.Gobusybox,
		"commands=" + strings.Join(cmds, ","),
		"init=" + b.Init,
		"uinit=" + b.Uinit,
		"shell=" + b.Shell,
	}
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n") + "\n"))
	return hex.EncodeToString(sum[:])
}

// depVersion returns the version of a module linked into this binary.
func depVersion(path string) string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range bi.Deps {
		if d.Path == path {
			if d.Replace != nil {
				d = d.Replace
			}
			return d.Version + " " + d.Sum
		}
	}
	return "unknown"
}

// baseBuild is one base image to make.
type baseBuild struct {
	inputs   baseInputs
	urootDir string // u-root module in the module cache
	goroot   string
	goCmd    string
	cacheDir string
	progress Progress
	// build writes the image to out; create (mkuimage) if nil. Tests
	// replace it.
	build func(tmpDir, out string) error
}

// baseName is the base image's name inside its cache entry.
const baseName = "base.cpio"

// entry is the cache entry (a cacheentry directory) of the base image.
func (b baseBuild) entry() string {
	return filepath.Join(b.cacheDir, fmt.Sprintf("base-%s-%s", b.inputs.GOARCH, b.inputs.key()[:24]))
}

// path is the base image inside its cache entry.
func (b baseBuild) path() string { return filepath.Join(b.entry(), baseName) }

// ensure returns the path of the base image, building it unless a complete
// cache entry exists. Concurrent callers for the same entry wait for one
// another through a lock file; a damaged entry is rebuilt.
func (b baseBuild) ensure(ctx context.Context) (path string, cached bool, err error) {
	entry, key := b.entry(), b.inputs.key()
	unlock, err := lockFile(ctx, entry+".lock")
	if err != nil {
		return "", false, err
	}
	defer unlock()
	if e, err := cacheentry.Open(entry, key, nil, baseName); err == nil {
		b.progress.report("base", "cached "+e.Path(baseName))
		return e.Path(baseName), true, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		b.progress.report("base", fmt.Sprintf("rebuilding: %v", err))
	}
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	tmpDir, err := os.MkdirTemp(b.cacheDir, "tmp-base-")
	if err != nil {
		return "", false, err
	}
	defer os.RemoveAll(tmpDir)
	st, err := cacheentry.Stage(entry)
	if err != nil {
		return "", false, fmt.Errorf("storing the base image in the cache: %w", err)
	}
	defer st.Discard()
	version, _, _ := strings.Cut(b.inputs.URoot, " ")
	b.progress.report("base", fmt.Sprintf("building the base image for %s with mkuimage from u-root %s", b.inputs.GOARCH, version))
	create := b.build
	if create == nil {
		create = b.create
	}
	if err := create(tmpDir, st.Path(baseName)); err != nil {
		return "", false, fmt.Errorf("mkuimage: %w", err)
	}
	if _, err := st.Add(baseName); err != nil {
		return "", false, fmt.Errorf("storing the base image in the cache: %w", err)
	}
	if err := st.Publish(key, nil); err != nil {
		return "", false, fmt.Errorf("storing the base image in the cache: %w", err)
	}
	return b.path(), false, nil
}

// create runs mkuimage. mkuimage runs go commands without a context, so a
// build in progress cannot be interrupted; ensure checks ctx before it.
func (b baseBuild) create(tmpDir, out string) error {
	env := golang.Default(
		golang.DisableCGO(),
		golang.WithGOOS("linux"),
		golang.WithGOARCH(b.inputs.GOARCH),
		golang.WithGOROOT(b.goroot),
		golang.WithGO111MODULE("on"),
		// Resolve the commands in u-root's own module, with its go.mod and
		// go.sum, so that our go.mod need not list their dependencies.
		golang.WithWorkingDir(b.urootDir),
	)
	env.Mod = golang.ModNone
	env.Compiler.Path = b.goCmd
	logger := llog.New(slog.LevelInfo, func(format string, v ...any) {
		b.progress.report("base", strings.TrimSpace(fmt.Sprintf(format, v...)))
	})
	opts, err := uimage.OptionsFor(
		uimage.WithReplaceEnv(env),
		uimage.WithBaseArchive(uimage.DefaultRamfs()),
		uimage.WithBusyboxCommands(b.inputs.Commands...),
		uimage.WithInit(b.inputs.Init),
		uimage.WithUinit(b.inputs.Uinit),
		uimage.WithShell(b.inputs.Shell),
		uimage.WithSkipLDD(),
		uimage.WithTempDir(tmpDir),
		uimage.WithCPIOOutput(out),
	)
	if err != nil {
		return err
	}
	opts.UrootSource = b.urootDir
	return opts.Create(logger)
}

// newBaseInputs collects the inputs of the base image.
func newBaseInputs(goarch, goVersion string, uroot module, extra []string) baseInputs {
	cmds := DefaultCommands()
	for _, c := range extra {
		if !strings.Contains(c, "/") {
			c = coreCmds + c
		}
		if !slices.Contains(cmds, c) {
			cmds = append(cmds, c)
		}
	}
	return baseInputs{
		GOARCH:    goarch,
		GoVersion: goVersion,
		URoot:     uroot.Version + " " + uroot.Sum,
		Mkuimage:  depVersion("github.com/u-root/mkuimage"),
		Gobusybox: depVersion("github.com/u-root/gobusybox/src"),
		Commands:  cmds,
		Init:      "init",
		Uinit:     plan.RunnerPath,
		Shell:     "gosh",
	}
}
