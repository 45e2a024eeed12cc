package userland

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/selfptrace/selfptrace-vm/arch"
	"github.com/selfptrace/selfptrace-vm/internal/cacheentry"
	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
	"github.com/selfptrace/selfptrace-vm/internal/procgroup"
)

// keyVersion changes whenever what Pack puts in the archive changes, so
// that older entries are not used.
const keyVersion = "userland-1"

// ArchiveName is the cpio archive inside a cache entry.
const ArchiveName = "root.cpio"

// Options says which userland to make.
type Options struct {
	Arch arch.Spec
	Spec Spec
	// CacheDir holds the entries (the rig's cache directory + "userland").
	CacheDir string
	// Mirror is the Debian mirror; the host's (HostMirror) when empty.
	Mirror string
	// Progress receives a line per step; may be nil.
	Progress func(msg string)
	// Mmdebstrap is the program; "mmdebstrap" from PATH when empty.
	Mmdebstrap string
}

// Image is a userland ready to be packed into an initramfs.
type Image struct {
	// Archive is the cpio archive (names under GuestRoot without its /).
	Archive  string
	Key      string
	CacheHit bool
	// Duration is the time Ensure took (mmdebstrap and packing when cold).
	Duration time.Duration
	// Damaged, when not empty, says why the cached entry could not be
	// used and was made again.
	Damaged string
	Info    Info
}

// Info is what an entry records about itself (meta.json's info).
type Info struct {
	Suite      string   `json:"suite"`
	DebianArch string   `json:"debian_arch"`
	Mirror     string   `json:"mirror"`
	Packages   []string `json:"packages"`
	// Versions are the packages apt resolved, dependencies included, as
	// NAME=VERSION, sorted.
	Versions     []string `json:"versions"`
	ArchiveBytes int64    `json:"archive_bytes"`
	Stats        Stats    `json:"stats"`
	Created      string   `json:"created"`
	// BuildSeconds is how long mmdebstrap and the packing took.
	BuildSeconds float64 `json:"build_seconds"`
}

// request is what a request key maps to: the content key of the entry
// that answered it, so that a warm run needs no network to find it.
type request struct {
	Key      string   `json:"key"`
	Versions []string `json:"versions"`
}

// PackageError says that Debian has no such package.
type PackageError struct {
	Packages []string
	Suite    string
	Arch     string
}

func (e *PackageError) Error() string {
	return fmt.Sprintf("Debian %s has no package %s for %s", e.Suite, strings.Join(e.Packages, ", "), e.Arch)
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

func (o Options) requestKey() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nsuite=%s\narch=%s\nmirror=%s\npackages=%s\n", keyVersion, o.Arch.DebianSuite, o.Arch.DebianArch,
		o.Mirror, strings.Join(o.Spec.Packages(), ","))
	return hex.EncodeToString(h.Sum(nil))
}

func contentKey(o Options, versions []string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\nsuite=%s\narch=%s\npackages=%s\nversions=%s\n", keyVersion, o.Arch.DebianSuite, o.Arch.DebianArch,
		strings.Join(o.Spec.Packages(), ","), strings.Join(versions, ","))
	return hex.EncodeToString(h.Sum(nil))
}

func (o Options) requestPath(key string) string {
	return filepath.Join(o.CacheDir, "requests", key[:32]+".json")
}

func (o Options) entryDir(key string) string { return filepath.Join(o.CacheDir, key[:32]) }

// Ensure finds the userland in the cache, or makes it.
func Ensure(ctx context.Context, o Options) (*Image, error) {
	img, err := ensure(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("making the %s %s userland: %w", o.Arch.Name, o.Spec, err)
	}
	return img, nil
}

func ensure(ctx context.Context, o Options) (*Image, error) {
	start := time.Now()
	if o.Arch.DebianArch == "" || o.Arch.DebianSuite == "" {
		return nil, fmt.Errorf("the arch table has no Debian architecture or suite for %s", o.Arch.Name)
	}
	if o.CacheDir == "" {
		return nil, errors.New("no cache directory")
	}
	if o.Mirror == "" {
		o.Mirror = HostMirror()
	}
	reqKey := o.requestKey()
	img, damaged := o.lookup(reqKey)
	if img != nil {
		img.Duration = time.Since(start)
		return img, nil
	}
	lock, err := fsutil.Acquire(ctx, filepath.Join(o.CacheDir, "locks", reqKey[:32]+".lock"), func() {
		o.progress("waiting for another selfptrace-vm making the same userland")
	})
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if img, _ := o.lookup(reqKey); img != nil {
		img.Duration = time.Since(start)
		return img, nil
	}
	img, err = o.build(ctx, reqKey)
	if err != nil {
		return nil, err
	}
	img.Duration, img.Damaged = time.Since(start), damaged
	return img, nil
}

// lookup finds a published entry through the request file, without the
// network. A damaged entry (or request file) is removed and reported as a
// miss with the reason.
func (o Options) lookup(reqKey string) (*Image, string) {
	data, err := os.ReadFile(o.requestPath(reqKey))
	if err != nil {
		return nil, ""
	}
	var req request
	if err := json.Unmarshal(data, &req); err != nil || len(req.Key) != 64 {
		os.Remove(o.requestPath(reqKey))
		return nil, "request file " + o.requestPath(reqKey) + " is damaged"
	}
	var info Info
	e, err := cacheentry.Open(o.entryDir(req.Key), req.Key, &info, ArchiveName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ""
		}
		o.progress("%v: making it again", err)
		return nil, err.Error()
	}
	o.progress("found in the cache (%s, %d packages)", humanBytes(info.ArchiveBytes), len(info.Versions))
	return &Image{Archive: e.Path(ArchiveName), Key: req.Key, CacheHit: true, Info: info}, ""
}

func (o Options) build(ctx context.Context, reqKey string) (*Image, error) {
	t0 := time.Now()
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(o.CacheDir, ".tmp-mmdebstrap-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	tarball := filepath.Join(tmp, "root.tar")
	debs := filepath.Join(tmp, "debs.txt")
	if err := o.mmdebstrap(ctx, tarball, debs); err != nil {
		return nil, err
	}
	versions, err := readVersions(debs)
	if err != nil {
		return nil, err
	}
	key := contentKey(o, versions)
	dir := o.entryDir(key)
	var info Info
	e, err := cacheentry.Open(dir, key, &info, ArchiveName)
	if err != nil {
		// Pack into a staged entry, published whole by a rename.
		o.progress("packing %d packages into a cpio archive", len(versions))
		st, err := cacheentry.Stage(dir)
		if err != nil {
			return nil, err
		}
		defer st.Discard()
		in, err := os.Open(tarball)
		if err != nil {
			return nil, err
		}
		var stats Stats
		err = fsutil.WriteAtomic(st.Path(ArchiveName), 0o644, func(w io.Writer) error {
			bw := bufio.NewWriterSize(w, 1<<20)
			var perr error
			if stats, perr = Pack(bw, in, strings.TrimPrefix(GuestRoot, "/")); perr != nil {
				return perr
			}
			return bw.Flush()
		})
		in.Close()
		if err != nil {
			return nil, fmt.Errorf("packing the root: %w", err)
		}
		if _, err := st.Add(ArchiveName); err != nil {
			return nil, err
		}
		fi, err := os.Stat(st.Path(ArchiveName))
		if err != nil {
			return nil, err
		}
		info = Info{
			Suite: o.Arch.DebianSuite, DebianArch: o.Arch.DebianArch, Mirror: o.Mirror,
			Packages: o.Spec.Packages(), Versions: versions, ArchiveBytes: fi.Size(), Stats: stats,
			Created: time.Now().UTC().Format(time.RFC3339), BuildSeconds: time.Since(t0).Seconds(),
		}
		if err := st.Publish(key, info); err != nil {
			return nil, fmt.Errorf("publishing the cache entry: %w", err)
		}
		if e, err = cacheentry.Open(dir, key, &info, ArchiveName); err != nil {
			return nil, err
		}
	}
	req, err := json.MarshalIndent(request{Key: key, Versions: versions}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomic(o.requestPath(reqKey), append(req, '\n'), 0o644); err != nil {
		return nil, err
	}
	o.progress("made: %s, %d packages, %d busybox applet links", humanBytes(info.ArchiveBytes), len(versions), info.Stats.Applets)
	return &Image{Archive: e.Path(ArchiveName), Key: key, Info: info}, nil
}

// mmdebstrap runs mmdebstrap's extract variant into tarball and lists the
// downloaded packages (their file names hold the versions apt resolved)
// into debs.
func (o Options) mmdebstrap(ctx context.Context, tarball, debs string) error {
	prog := o.Mmdebstrap
	if prog == "" {
		prog = "mmdebstrap"
	}
	args := []string{
		"--variant=extract",
		"--arch=" + o.Arch.DebianArch,
		"--format=tar",
		"--include=" + strings.Join(o.Spec.Packages(), ","),
		// The extract hook runs while the downloaded packages are still
		// in the root's apt cache.
		"--extract-hook=ls \"$1\"/var/cache/apt/archives/ > " + shellQuote(debs),
		o.Arch.DebianSuite, tarball,
	}
	if o.Mirror != "" {
		args = append(args, o.Mirror)
	}
	o.progress("mmdebstrap %s %s for %s: %s", o.Arch.DebianSuite, "extract", o.Arch.DebianArch, strings.Join(o.Spec.Packages(), " "))
	cmd := exec.CommandContext(ctx, prog, args...)
	procgroup.Own(cmd, syscall.SIGTERM)
	// One writer for both streams: exec then copies them from one pipe,
	// in the order mmdebstrap and apt wrote them.
	var out bytes.Buffer
	w := &lineWriter{fn: func(line string) {
		out.WriteString(line + "\n")
		if strings.HasPrefix(line, "I: ") && !strings.HasPrefix(line, "I: running --") {
			o.progress("%s", strings.TrimPrefix(line, "I: "))
		}
	}}
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	w.flush()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if missing := missingPackages(out.String()); len(missing) > 0 {
			return &PackageError{Packages: missing, Suite: o.Arch.DebianSuite, Arch: o.Arch.DebianArch}
		}
		return fmt.Errorf("mmdebstrap: %w\n%s", err, tail(out.String(), 20))
	}
	return nil
}

var missingRE = []*regexp.Regexp{
	regexp.MustCompile(`Unable to locate package (\S+)`),
	regexp.MustCompile(`Package '?([^' ]+)'? has no installation candidate`),
	regexp.MustCompile(`Couldn't find any package by (?:glob|regex) '([^']+)'`),
}

// missingPackages finds the packages apt could not find in its output.
func missingPackages(out string) []string {
	var names []string
	for _, re := range missingRE {
		for _, m := range re.FindAllStringSubmatch(out, -1) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// readVersions turns the names of the downloaded packages into
// NAME=VERSION, sorted.
func readVersions(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the list of downloaded packages: %w", err)
	}
	var out []string
	for _, f := range strings.Fields(string(data)) {
		if !strings.HasSuffix(f, ".deb") {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(f, ".deb"), "_")
		if len(parts) != 3 {
			return nil, fmt.Errorf("unexpected package file name %q", f)
		}
		v, err := url.PathUnescape(parts[1])
		if err != nil {
			return nil, fmt.Errorf("package file name %q: %w", f, err)
		}
		out = append(out, parts[0]+"="+v)
	}
	if len(out) == 0 {
		return nil, errors.New("mmdebstrap downloaded no package")
	}
	slices.Sort(out)
	return out, nil
}

// HostMirror is the first Debian archive in the host's apt sources (the
// one apt uses here), or "" for mmdebstrap's default.
func HostMirror() string {
	return hostMirror("/etc/apt/sources.list", "/etc/apt/sources.list.d")
}

func hostMirror(list, dir string) string {
	files := []string{list}
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".sources") || strings.HasSuffix(e.Name(), ".list") {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			var uris []string
			switch {
			case strings.HasPrefix(line, "URIs:"):
				uris = strings.Fields(strings.TrimPrefix(line, "URIs:"))
			case strings.HasPrefix(line, "deb "):
				fields := strings.Fields(line)
				for _, fl := range fields[1:] {
					if strings.Contains(fl, "://") {
						uris = append(uris, fl)
						break
					}
				}
			}
			for _, u := range uris {
				u = strings.TrimSuffix(u, "/")
				if strings.HasSuffix(u, "/debian") {
					return u
				}
			}
		}
	}
	return ""
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func humanBytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// lineWriter calls fn for every whole line written.
type lineWriter struct {
	buf []byte
	fn  func(string)
}

// flush passes on a last line without a newline.
func (l *lineWriter) flush() {
	if len(l.buf) > 0 {
		l.fn(string(l.buf))
		l.buf = nil
	}
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.fn(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}
