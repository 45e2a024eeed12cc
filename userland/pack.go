package userland

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// Dropped are the parts of the packages that the guest does not need and
// that the archive leaves out: documentation, manual pages, translations.
// They are a third of the bytes of the default set.
var dropped = []string{"usr/share/doc/", "usr/share/man/", "usr/share/info/", "usr/share/locale/", "var/cache/apt/archives/"}

// configFiles are written into etc/ when the packages did not bring them:
// the extract variant runs no maintainer script, so nothing creates the
// users (base-passwd's postinst) or the name service configuration
// (libc-bin's postinst).
var configFiles = []struct {
	name, content string
	perm          int64
}{
	{"etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0o644},
	{"etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n", 0o644},
	{"etc/shadow", "root:*:20000:0:99999:7:::\nnobody:*:20000:0:99999:7:::\n", 0o640},
	{"etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files\n", 0o644},
	{"etc/hostname", "selfptrace-vm\n", 0o644},
	{"etc/hosts", "127.0.0.1\tlocalhost selfptrace-vm\n::1\tlocalhost\n", 0o644},
}

// mountPoints are the directories the guest runner mounts on (proc, sys,
// dev, a tmpfs on tmp) or that programs expect.
var mountPoints = []struct {
	name string
	perm int64
}{{"proc", 0o555}, {"sys", 0o555}, {"dev", 0o755}, {"tmp", 0o1777}, {"run", 0o755}, {"root", 0o700}, {"etc", 0o755}}

// entry is one file of the root, read from mmdebstrap's tarball.
type entry struct {
	hdr  *tar.Header
	name string // clean, relative: "usr/bin/strace"
	data []byte
}

// Stats describe a packed root.
type Stats struct {
	Files        int   // records in the archive
	Bytes        int64 // bytes of file content
	DroppedBytes int64 // bytes left out (dropped)
	Applets      int   // busybox applet links added
}

// Pack turns mmdebstrap's tarball into a newc cpio archive whose names are
// under prefix ("debian"), for the kernel to unpack after the base image.
// It leaves out the dropped parts, adds configFiles and mountPoints that
// the packages lack, and a link in the directory of busybox for each
// busybox applet that no package provides as a program (Debian's busybox
// has no --install, and the guest runs no maintainer script).
func Pack(w io.Writer, tarball io.Reader, prefix string) (Stats, error) {
	var st Stats
	entries, names, err := readTar(tarball, &st)
	if err != nil {
		return st, err
	}
	for _, m := range mountPoints {
		if _, ok := names[m.name]; !ok {
			entries = append(entries, &entry{name: m.name, hdr: &tar.Header{Typeflag: tar.TypeDir, Mode: m.perm}})
			names[m.name] = len(entries) - 1
		}
	}
	for _, c := range configFiles {
		if _, ok := names[c.name]; !ok {
			entries = append(entries, &entry{name: c.name, data: []byte(c.content),
				hdr: &tar.Header{Typeflag: tar.TypeReg, Mode: c.perm, Size: int64(len(c.content))}})
			names[c.name] = len(entries) - 1
		}
	}
	links, err := appletLinks(entries, names)
	if err != nil {
		return st, err
	}
	entries = append(entries, links...)
	st.Applets = len(links)

	// Hard links: the kernel links a record to an earlier one of the same
	// inode when both have nlink >= 2, so the target gets its count first.
	nlink := map[string]uint64{}
	for _, e := range entries {
		if e.hdr.Typeflag == tar.TypeLink {
			nlink[cleanTarName(e.hdr.Linkname)]++
		}
	}
	ino := map[string]uint64{}
	rw := cpio.Newc.Writer(w)
	if err := writeParents(rw, prefix, &st); err != nil {
		return st, err
	}
	// Inodes after those of the prefix directories (writeParents: 1, 2...).
	next := uint64(strings.Count(path.Clean(prefix), "/") + 1)
	for _, e := range entries {
		next++
		info := cpio.Info{
			Name:  path.Join(prefix, e.name),
			Ino:   next,
			NLink: 1,
			UID:   uint64(max(e.hdr.Uid, 0)),
			GID:   uint64(max(e.hdr.Gid, 0)),
			MTime: uint64(max(e.hdr.ModTime.Unix(), 0)),
		}
		perm := uint64(e.hdr.Mode) & 0o7777
		var content []byte
		switch e.hdr.Typeflag {
		case tar.TypeDir:
			info.Mode, info.NLink = cpio.S_IFDIR|perm, 2
		case tar.TypeReg:
			info.Mode, content = cpio.S_IFREG|perm, e.data
			if n := nlink[e.name]; n > 0 {
				info.NLink = n + 1
				ino[e.name] = next
			}
		case tar.TypeSymlink:
			info.Mode, content = cpio.S_IFLNK|0o777, []byte(e.hdr.Linkname)
		case tar.TypeLink:
			target := cleanTarName(e.hdr.Linkname)
			i, ok := ino[target]
			if !ok {
				return st, fmt.Errorf("hard link %s to %s, which is not a regular file before it", e.name, target)
			}
			info.Mode, info.Ino, info.NLink = cpio.S_IFREG|perm, i, nlink[target]+1
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			// Device nodes come from devtmpfs in the guest.
			continue
		default:
			return st, fmt.Errorf("%s: unexpected tar entry type %q", e.name, e.hdr.Typeflag)
		}
		info.FileSize = uint64(len(content))
		st.Files++
		st.Bytes += int64(len(content))
		if err := rw.WriteRecord(cpio.Record{ReaderAt: bytes.NewReader(content), Info: info}); err != nil {
			return st, fmt.Errorf("writing %s: %w", info.Name, err)
		}
	}
	return st, cpio.WriteTrailer(rw)
}

// writeParents writes the directories of prefix itself.
func writeParents(rw cpio.RecordWriter, prefix string, st *Stats) error {
	var dirs []string
	for p := path.Clean(prefix); p != "." && p != "/"; p = path.Dir(p) {
		dirs = append([]string{p}, dirs...)
	}
	for i, d := range dirs {
		info := cpio.Info{Name: d, Ino: uint64(i + 1), Mode: cpio.S_IFDIR | 0o755, NLink: 2}
		if err := rw.WriteRecord(cpio.Record{ReaderAt: bytes.NewReader(nil), Info: info}); err != nil {
			return err
		}
		st.Files++
	}
	return nil
}

func cleanTarName(n string) string {
	n = strings.TrimPrefix(path.Clean("/"+n), "/")
	return n
}

func isDropped(name string) bool {
	for _, d := range dropped {
		if strings.HasPrefix(name, d) {
			return true
		}
	}
	return false
}

// readTar reads every entry, in order, without the dropped ones; names maps
// each name to its index.
func readTar(r io.Reader, st *Stats) ([]*entry, map[string]int, error) {
	tr := tar.NewReader(r)
	var entries []*entry
	names := map[string]int{}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading mmdebstrap's tarball: %w", err)
		}
		name := cleanTarName(hdr.Name)
		if name == "" {
			continue // the root itself
		}
		if isDropped(name) && hdr.Typeflag != tar.TypeDir {
			st.DroppedBytes += hdr.Size
			continue
		}
		e := &entry{hdr: hdr, name: name}
		if hdr.Typeflag == tar.TypeReg {
			if e.data, err = io.ReadAll(tr); err != nil {
				return nil, nil, fmt.Errorf("reading %s from mmdebstrap's tarball: %w", name, err)
			}
		}
		if i, dup := names[name]; dup {
			entries[i] = e // a later entry replaces an earlier one, as tar -x does
			continue
		}
		names[name] = len(entries)
		entries = append(entries, e)
	}
	if len(entries) == 0 {
		return nil, nil, errors.New("mmdebstrap's tarball is empty")
	}
	return entries, names, nil
}

// resolve follows the symbolic links of a root-relative name's directories
// inside the root ("bin/sh" with bin -> usr/bin gives "usr/bin/sh").
func resolve(name string, entries []*entry, names map[string]int) string {
	parts := strings.Split(name, "/")
	cur := ""
	for i, p := range parts {
		cur = path.Join(cur, p)
		if i == len(parts)-1 {
			break
		}
		for hops := 0; hops < 8; hops++ {
			j, ok := names[cur]
			if !ok || entries[j].hdr.Typeflag != tar.TypeSymlink {
				break
			}
			t := entries[j].hdr.Linkname
			if strings.HasPrefix(t, "/") {
				cur = cleanTarName(t)
			} else {
				cur = cleanTarName(path.Join(path.Dir(cur), t))
			}
		}
	}
	return cur
}

// appletLinks makes a symbolic link in busybox's own directory for each
// applet that no file in bin, sbin, usr/bin or usr/sbin provides. No
// busybox, no links.
func appletLinks(entries []*entry, names map[string]int) ([]*entry, error) {
	var bb *entry
	for _, p := range []string{"usr/bin/busybox", "bin/busybox"} {
		if i, ok := names[resolve(p, entries, names)]; ok && entries[i].hdr.Typeflag == tar.TypeReg {
			bb = entries[i]
			break
		}
	}
	if bb == nil {
		return nil, nil
	}
	applets, err := BusyboxApplets(bb.data)
	if err != nil {
		return nil, fmt.Errorf("busybox (%s): %w", bb.name, err)
	}
	dir := path.Dir(bb.name)
	var out []*entry
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		provided := false
		for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin"} {
			if _, ok := names[resolve(d+"/"+a, entries, names)]; ok {
				provided = true
				break
			}
		}
		if provided {
			continue
		}
		name := path.Join(dir, a)
		e := &entry{name: name, hdr: &tar.Header{Typeflag: tar.TypeSymlink, Linkname: "busybox", Mode: 0o777}}
		names[name] = len(entries) + len(out)
		out = append(out, e)
	}
	return out, nil
}

// BusyboxApplets reads the applet names from a busybox binary: busybox
// keeps them sorted, NUL-separated and ending with an empty name, starting
// with "[" and "[[" (the test applets), in every build that has them. This
// is what `busybox --list` prints, read without running a binary of
// another architecture.
func BusyboxApplets(bin []byte) ([]string, error) {
	start := bytes.Index(bin, []byte("\x00[\x00[[\x00"))
	if start < 0 {
		return nil, errors.New("no applet table (the names \"[\" and \"[[\" not found)")
	}
	rest := bin[start+1:]
	end := bytes.Index(rest, []byte("\x00\x00"))
	if end < 0 {
		return nil, errors.New("the applet table does not end")
	}
	names := strings.Split(string(rest[:end]), "\x00")
	if !slices.IsSorted(names) || len(names) < 10 {
		return nil, fmt.Errorf("the applet table is not a sorted list of names (%d names)", len(names))
	}
	return names, nil
}
