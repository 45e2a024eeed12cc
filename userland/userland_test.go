package userland

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/selfptrace/selfptrace-vm/arch"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in    string
		extra []string
		bad   string
	}{
		{in: "debian"},
		{in: "debian:sqlite3,file", extra: []string{"sqlite3", "file"}},
		{in: "debian: gawk ", extra: []string{"gawk"}},
		{in: "ubuntu", bad: "unknown userland"},
		{in: "", bad: "unknown userland"},
		{in: "debian:", bad: "not a Debian package name"},
		{in: "debian:Bash", bad: "not a Debian package name"},
		{in: "debian:a;rm", bad: "not a Debian package name"},
		{in: "debian:x", bad: "not a Debian package name"},
	} {
		s, err := Parse(tc.in)
		if tc.bad != "" {
			if err == nil || !strings.Contains(err.Error(), tc.bad) {
				t.Errorf("Parse(%q) = %v, want an error with %q", tc.in, err, tc.bad)
			}
			continue
		}
		if err != nil || !slices.Equal(s.Extra, tc.extra) {
			t.Errorf("Parse(%q) = %v, %v; want extra %v", tc.in, s, err, tc.extra)
		}
	}
	s, _ := Parse("debian:strace,zstd")
	if got := s.Packages(); !slices.IsSorted(got) || slices.Index(got, "zstd") < 0 || len(got) != len(DefaultPackages())+1 {
		t.Errorf("Packages() = %v: want the defaults plus zstd, sorted, each once", got)
	}
	if s.String() != "debian:strace,zstd" {
		t.Errorf("String() = %q", s.String())
	}
}

// fakeBusybox is a binary with busybox's applet table in it.
func fakeBusybox(applets ...string) []byte {
	return []byte("\x7fELF junk\x00" + strings.Join(applets, "\x00") + "\x00\x00more junk")
}

func TestBusyboxApplets(t *testing.T) {
	names := []string{"[", "[[", "ash", "cat", "ls", "sh", "vi", "wc", "xargs", "zcat"}
	got, err := BusyboxApplets(fakeBusybox(names...))
	if err != nil || !slices.Equal(got, names) {
		t.Fatalf("BusyboxApplets = %v, %v; want %v", got, err, names)
	}
	if _, err := BusyboxApplets([]byte("no table here")); err == nil {
		t.Error("no error for a binary without an applet table")
	}
	if _, err := BusyboxApplets(fakeBusybox("[", "[[", "b", "a", "c", "d", "e", "f", "g", "h")); err == nil {
		t.Error("no error for an unsorted table")
	}
	// The real thing, when the host has it.
	if bin, err := os.ReadFile("/bin/busybox"); err == nil {
		got, err := BusyboxApplets(bin)
		if err != nil || !slices.Contains(got, "sh") {
			t.Errorf("host busybox: %d applets, %v", len(got), err)
		}
	}
}

type tarFile struct {
	name, link string
	typ        byte
	data       string
	mode       int64
}

func makeTar(t *testing.T, files []tarFile) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Typeflag: f.typ, Linkname: f.link, Mode: f.mode, Size: int64(len(f.data))}
		if f.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if f.typ == tar.TypeReg {
			tw.Write([]byte(f.data))
		}
	}
	tw.Close()
	return buf.Bytes()
}

type rec struct {
	info cpio.Info
	data string
}

func readCpio(t *testing.T, b []byte) map[string]rec {
	t.Helper()
	r := cpio.Newc.Reader(bytes.NewReader(b))
	out := map[string]rec{}
	for {
		rc, err := r.ReadRecord()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(io.NewSectionReader(rc.ReaderAt, 0, int64(rc.FileSize)))
		out[rc.Name] = rec{rc.Info, string(data)}
	}
	return out
}

func TestPack(t *testing.T) {
	bb := string(fakeBusybox("[", "[[", "ash", "cat", "ls", "sh", "vi", "wc", "xargs", "zcat"))
	tb := makeTar(t, []tarFile{
		{name: "./", typ: tar.TypeDir, mode: 0o755},
		{name: "./usr/", typ: tar.TypeDir, mode: 0o755},
		{name: "./usr/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "./bin", typ: tar.TypeSymlink, link: "usr/bin"},
		{name: "./usr/bin/busybox", typ: tar.TypeReg, data: bb, mode: 0o755},
		{name: "./usr/bin/ls", typ: tar.TypeReg, data: "coreutils ls", mode: 0o755},
		{name: "./usr/bin/gzip", typ: tar.TypeReg, data: "gzip", mode: 0o755},
		{name: "./usr/bin/gunzip", typ: tar.TypeLink, link: "./usr/bin/gzip"},
		{name: "./usr/bin/cat", typ: tar.TypeSymlink, link: "ls"},
		{name: "./usr/share/doc/x/copyright", typ: tar.TypeReg, data: "0123456789", mode: 0o644},
		{name: "./etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "./etc/group", typ: tar.TypeReg, data: "packaged group\n", mode: 0o644},
		{name: "./tmp/", typ: tar.TypeDir, mode: 0o1777},
	})
	var out bytes.Buffer
	st, err := Pack(&out, bytes.NewReader(tb), "debian")
	if err != nil {
		t.Fatal(err)
	}
	got := readCpio(t, out.Bytes())
	if _, ok := got["debian"]; !ok {
		t.Error("no record for the prefix directory")
	}
	if _, ok := got["debian/usr/share/doc/x/copyright"]; ok || st.DroppedBytes != 10 {
		t.Errorf("documentation not dropped (dropped %d bytes)", st.DroppedBytes)
	}
	if r := got["debian/etc/group"]; r.data != "packaged group\n" {
		t.Errorf("etc/group = %q: a packaged file must win over the default", r.data)
	}
	if r := got["debian/etc/passwd"]; !strings.HasPrefix(r.data, "root:x:0:0:") {
		t.Errorf("etc/passwd = %q", r.data)
	}
	for _, d := range []string{"proc", "sys", "dev", "run", "root"} {
		if r, ok := got["debian/"+d]; !ok || r.info.Mode&cpio.S_IFMT != cpio.S_IFDIR {
			t.Errorf("no mount point directory %s", d)
		}
	}
	if r := got["debian/tmp"]; r.info.Mode&0o7777 != 0o1777 {
		t.Errorf("tmp mode %o", r.info.Mode&0o7777)
	}
	// Applets: links next to busybox for what no package provides (cat
	// is a symlink, ls a file, [ and [[ are fine too); never busybox
	// itself.
	var links []string
	for name, r := range got {
		if r.info.Mode&cpio.S_IFMT == cpio.S_IFLNK && r.data == "busybox" {
			links = append(links, strings.TrimPrefix(name, "debian/usr/bin/"))
		}
	}
	slices.Sort(links)
	if want := []string{"[", "[[", "ash", "sh", "vi", "wc", "xargs", "zcat"}; !slices.Equal(links, want) || st.Applets != len(want) {
		t.Errorf("applet links %v (%d), want %v", links, st.Applets, want)
	}
	// The hard link shares the inode of its target, both with nlink 2,
	// and the content is in the first record only.
	gz, gun := got["debian/usr/bin/gzip"], got["debian/usr/bin/gunzip"]
	if gz.info.Ino != gun.info.Ino || gz.info.NLink != 2 || gun.info.NLink != 2 || gz.data != "gzip" || gun.data != "" {
		t.Errorf("hard link: gzip %+v %q, gunzip %+v %q", gz.info, gz.data, gun.info, gun.data)
	}
	if r := got["debian/bin"]; r.info.Mode&cpio.S_IFMT != cpio.S_IFLNK || r.data != "usr/bin" {
		t.Errorf("bin: %+v %q", r.info, r.data)
	}
}

func TestReadVersions(t *testing.T) {
	p := filepath.Join(t.TempDir(), "debs")
	os.WriteFile(p, []byte("busybox_1%3a1.35.0-4+deb12u1+b1_amd64.deb\nlock\npartial\nlibc6_2.36-9+deb12u14_s390x.deb\n"), 0o644)
	got, err := readVersions(p)
	want := []string{"busybox=1:1.35.0-4+deb12u1+b1", "libc6=2.36-9+deb12u14"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("readVersions = %v, %v; want %v", got, err, want)
	}
	os.WriteFile(p, []byte("lock\n"), 0o644)
	if _, err := readVersions(p); err == nil {
		t.Error("no error when nothing was downloaded")
	}
}

func TestMissingPackages(t *testing.T) {
	out := "I: downloading packages with apt...\nE: Unable to locate package nosuch-pkg\nE: Package 'gone' has no installation candidate\nE: apt download failed"
	if got := missingPackages(out); !slices.Equal(got, []string{"gone", "nosuch-pkg"}) {
		t.Errorf("missingPackages = %v", got)
	}
}

func TestHostMirror(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "sources.list.d")
	os.Mkdir(d, 0o755)
	os.WriteFile(filepath.Join(d, "debian.sources"), []byte("Types: deb\nURIs: http://mirror.example/debian/\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n"), 0o644)
	if got := hostMirror(filepath.Join(dir, "sources.list"), d); got != "http://mirror.example/debian" {
		t.Errorf("deb822: %q", got)
	}
	os.WriteFile(filepath.Join(dir, "sources.list"), []byte("# c\ndeb [arch=amd64] http://other.example/debian bookworm main\n"), 0o644)
	if got := hostMirror(filepath.Join(dir, "sources.list"), d); got != "http://other.example/debian" {
		t.Errorf("one-line: %q", got)
	}
}

// fakeMmdebstrap writes a script that plays mmdebstrap: it writes the
// tarball given and runs the extract hook's listing, or fails like apt
// does for an unknown package.
func fakeMmdebstrap(t *testing.T, tarball []byte) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "root.tar")
	os.WriteFile(src, tarball, 0o644)
	script := `#!/bin/sh
for a; do case "$a" in
  --include=*nosuch*) echo "E: Unable to locate package nosuch" >&2; exit 1;;
  --extract-hook=*) hook="${a#--extract-hook=}";;
esac; done
# the suite and the tarball are the two arguments after the options (mirror last)
eval "set -- $(for a; do case "$a" in --*) ;; *) printf "'%s' " "$a";; esac; done)"
cp ` + src + ` "$2"
root=$(mktemp -d); mkdir -p "$root/var/cache/apt/archives"; touch "$root/var/cache/apt/archives/busybox_1%3a1.35_amd64.deb"
sh -c "$hook" hook "$root"
echo "I: success"
`
	p := filepath.Join(dir, "mmdebstrap")
	os.WriteFile(p, []byte(script), 0o755)
	return p
}

func TestEnsureCacheAndFailure(t *testing.T) {
	a, _ := arch.Lookup("x86_64")
	tb := makeTar(t, []tarFile{{name: "./usr/bin/busybox", typ: tar.TypeReg, data: string(fakeBusybox("[", "[[", "a", "b", "c", "d", "e", "f", "g", "h")), mode: 0o755}})
	cache := t.TempDir()
	o := Options{Arch: a, CacheDir: cache, Mirror: "http://mirror.example/debian", Mmdebstrap: fakeMmdebstrap(t, tb)}
	img, err := Ensure(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if img.CacheHit || len(img.Info.Versions) != 1 || img.Info.Versions[0] != "busybox=1:1.35" {
		t.Errorf("first Ensure: hit %v, versions %v", img.CacheHit, img.Info.Versions)
	}
	// Warm: no mmdebstrap at all.
	o.Mmdebstrap = "/nonexistent/mmdebstrap"
	img2, err := Ensure(context.Background(), o)
	if err != nil || !img2.CacheHit || img2.Archive != img.Archive {
		t.Fatalf("warm Ensure: %+v, %v", img2, err)
	}
	// Damaged: found, removed, and (with no mmdebstrap) an error.
	os.WriteFile(img.Archive, []byte("truncated"), 0o644)
	if _, err := Ensure(context.Background(), o); err == nil {
		t.Fatal("a damaged entry was used")
	}
	if _, err := os.Stat(filepath.Dir(img.Archive)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the damaged entry is still there: %v", err)
	}
	o.Mmdebstrap = fakeMmdebstrap(t, tb)
	os.WriteFile(img.Archive, []byte("truncated"), 0o644) // the failed Ensure removed the entry: damage it again
	os.MkdirAll(filepath.Dir(img.Archive), 0o755)
	if img3, err := Ensure(context.Background(), o); err != nil || img3.CacheHit {
		t.Fatalf("Ensure after the damage: %+v, %v", img3, err)
	}
	os.WriteFile(img.Archive, []byte("truncated again"), 0o644)
	img4, err := Ensure(context.Background(), o)
	if err != nil || img4.CacheHit || !strings.Contains(img4.Damaged, "damaged") {
		t.Fatalf("a damaged entry is not reported as rebuilt: %+v, %v", img4, err)
	}
	// Unknown package: a PackageError naming it, and no entry.
	o.Mmdebstrap = fakeMmdebstrap(t, tb)
	o.Spec = Spec{Extra: []string{"nosuch"}}
	_, err = Ensure(context.Background(), o)
	var pe *PackageError
	if !errors.As(err, &pe) || !slices.Equal(pe.Packages, []string{"nosuch"}) || !strings.Contains(err.Error(), "no package nosuch") {
		t.Fatalf("unknown package: %v", err)
	}
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".tmp") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if _, err := os.Stat(o.requestPath(o.requestKey())); err == nil {
		t.Error("a request file for the failed userland")
	}
}
