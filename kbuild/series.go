package kbuild

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Patch is one entry of a series.
type Patch struct {
	Name    string
	Content []byte
}

// ReadSeries reads dir/series (quilt format: one patch file name per line,
// '#' comments and blank lines ignored) and the patches it names, in order.
// A missing series file is an error; an empty one gives no patches.
func ReadSeries(dir string) ([]Patch, error) {
	data, err := os.ReadFile(filepath.Join(dir, "series"))
	if err != nil {
		return nil, fmt.Errorf("reading patch series: %w", err)
	}
	var out []Patch
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		if line == "" {
			continue
		}
		name := strings.Fields(line)[0]
		if filepath.IsAbs(name) || strings.Contains(name, "..") {
			return nil, fmt.Errorf("%s/series line %d: patch name %q must be relative to the series directory", dir, n, name)
		}
		content, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("%s/series line %d: %w", dir, n, err)
		}
		out = append(out, Patch{Name: name, Content: content})
	}
	return out, nil
}

// FeaturePatch returns the number of leading patches of series from which
// the architecture whose directory under arch/ is kernelDir has self
// ptrace: the patch that adds "select HAVE_ARCH_SELF_PTRACE" to its
// Kconfig, counted from 1. It returns 0 if no patch does.
func FeaturePatch(series []Patch, kernelDir string) int {
	kconfig := "+++ b/arch/" + kernelDir + "/Kconfig"
	for i, p := range series {
		in := false
		for _, line := range strings.Split(string(p.Content), "\n") {
			switch {
			case strings.HasPrefix(line, "+++ "):
				in = line == kconfig
			case in && strings.HasPrefix(line, "+") && strings.Contains(line, "select HAVE_ARCH_SELF_PTRACE"):
				return i + 1
			}
		}
	}
	return 0
}
