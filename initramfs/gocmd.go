package initramfs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// goTool runs the go command for one target architecture. It never changes
// the process environment: the target is set on each exec.Cmd.
type goTool struct {
	path   string // the go command
	dir    string // working directory (the module with the test packages)
	goarch string
}

// env is the environment of a go command for the target.
func (g goTool) env() []string {
	return append(os.Environ(), "GOOS=linux", "GOARCH="+g.goarch, "CGO_ENABLED=0", "GO111MODULE=on")
}

// run runs "go args..." and returns its stdout. Its stderr goes into the
// error.
func (g goTool) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.path, args...)
	cmd.Dir = g.dir
	cmd.Env = g.env()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}

// goEnv is what the packer needs to know about the Go toolchain.
type goEnv struct {
	GOROOT    string
	GOVERSION string
}

func (g goTool) goEnv(ctx context.Context) (goEnv, error) {
	out, err := g.run(ctx, "env", "-json", "GOROOT", "GOVERSION")
	if err != nil {
		return goEnv{}, err
	}
	var e goEnv
	if err := json.Unmarshal(out, &e); err != nil {
		return goEnv{}, fmt.Errorf("decoding go env: %w", err)
	}
	if e.GOROOT == "" || e.GOVERSION == "" {
		return goEnv{}, fmt.Errorf("go env says GOROOT=%q GOVERSION=%q", e.GOROOT, e.GOVERSION)
	}
	return e, nil
}

// module is a module of the build list, as go mod download -json reports
// it.
type module struct {
	Path    string
	Version string
	Dir     string
	Sum     string
	Error   string
}

// module locates a required module in the module cache, downloading it if
// needed.
func (g goTool) module(ctx context.Context, path string) (module, error) {
	out, err := g.run(ctx, "mod", "download", "-json", path)
	if err != nil {
		return module{}, err
	}
	var m module
	if err := json.Unmarshal(out, &m); err != nil {
		return module{}, fmt.Errorf("decoding go mod download output: %w", err)
	}
	if m.Error != "" {
		return module{}, fmt.Errorf("module %s: %s", path, m.Error)
	}
	if m.Dir == "" || m.Version == "" {
		return module{}, fmt.Errorf("module %s: go mod download gave no directory or version", path)
	}
	return m, nil
}

// listedPackage is the part of go list -json that the packer uses.
type listedPackage struct {
	ImportPath   string
	Dir          string
	Name         string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

// list resolves package patterns for the target.
func (g goTool) list(ctx context.Context, patterns ...string) ([]listedPackage, error) {
	args := append([]string{"list", "-e", "-json=ImportPath,Dir,Name,TestGoFiles,XTestGoFiles,Error"}, patterns...)
	out, err := g.run(ctx, args...)
	if err != nil {
		return nil, err
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, fmt.Errorf("decoding go list output: %w", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}
