package initramfs

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// overlay writes the small cpio archive that goes after the base: test
// binaries, the runner, the plan and extra files. Records are reproducible
// (owner root, time zero) and every parent directory gets a record first,
// because the kernel skips a file whose directory does not exist.
type overlay struct {
	w     cpio.RecordWriter
	names map[string]bool // written records; true for directories
	ino   uint64
}

func newOverlay(w io.Writer) *overlay {
	return &overlay{w: cpio.Newc.Writer(w), names: map[string]bool{}}
}

// cleanName turns a guest path into an archive name: relative, clean, and
// inside the root.
func cleanName(name string) (string, error) {
	n := strings.TrimPrefix(path.Clean("/"+name), "/")
	if n == "" || n == "." {
		return "", fmt.Errorf("guest path %q names the root", name)
	}
	return n, nil
}

func (o *overlay) record(info cpio.Info, content io.ReaderAt) error {
	o.ino++
	info.Ino = o.ino
	info.NLink = 1
	if info.Mode&cpio.S_IFMT == cpio.S_IFDIR {
		info.NLink = 2
	}
	return o.w.WriteRecord(cpio.Record{ReaderAt: content, Info: info})
}

// dir adds a directory and its parents.
func (o *overlay) dir(name string) error {
	name, err := cleanName(name)
	if err != nil {
		return err
	}
	if isDir, ok := o.names[name]; ok {
		if !isDir {
			return fmt.Errorf("%s: already a file in the image", name)
		}
		return nil
	}
	if parent := path.Dir(name); parent != "." {
		if err := o.dir(parent); err != nil {
			return err
		}
	}
	o.names[name] = true
	return o.record(cpio.Info{Name: name, Mode: cpio.S_IFDIR | 0o755}, nil)
}

// claim registers a non-directory entry, after its parents.
func (o *overlay) claim(name string) (string, error) {
	name, err := cleanName(name)
	if err != nil {
		return "", err
	}
	if _, ok := o.names[name]; ok {
		return "", fmt.Errorf("%s: two files for one path in the image", name)
	}
	if parent := path.Dir(name); parent != "." {
		if err := o.dir(parent); err != nil {
			return "", err
		}
	}
	o.names[name] = false
	return name, nil
}

// bytes adds a file with the given content.
func (o *overlay) bytes(name string, content []byte, perm os.FileMode) error {
	name, err := o.claim(name)
	if err != nil {
		return err
	}
	return o.record(cpio.Info{Name: name, Mode: cpio.S_IFREG | uint64(perm.Perm()), FileSize: uint64(len(content))},
		bytes.NewReader(content))
}

// file adds the host file src, which must be a regular file.
func (o *overlay) file(name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", src)
	}
	if name, err = o.claim(name); err != nil {
		return err
	}
	return o.record(cpio.Info{Name: name, Mode: cpio.S_IFREG | uint64(st.Mode().Perm()), FileSize: uint64(st.Size())}, f)
}

// symlink adds a symbolic link.
func (o *overlay) symlink(name, target string) error {
	name, err := o.claim(name)
	if err != nil {
		return err
	}
	return o.record(cpio.Info{Name: name, Mode: cpio.S_IFLNK | 0o777, FileSize: uint64(len(target))},
		strings.NewReader(target))
}

// tree adds the host file or directory src at name: directories
// recursively, symbolic links as links, regular files with their mode.
func (o *overlay) tree(name, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		guest := path.Join(name, filepath.ToSlash(rel))
		switch {
		case d.IsDir():
			return o.dir(guest)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return o.symlink(guest, target)
		case d.Type().IsRegular():
			return o.file(guest, p)
		}
		return fmt.Errorf("%s: cannot put a %v in the image", p, d.Type())
	})
}

// finish writes the trailer.
func (o *overlay) finish() error {
	return cpio.WriteTrailer(o.w)
}

// concat writes the archives to w one after the other, padding each but
// the last to a 4-byte boundary: the kernel unpacks concatenated newc
// archives and looks for the next header on such a boundary.
func concat(w io.Writer, archives ...string) error {
	var n int64
	for i, src := range archives {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		m, err := io.Copy(w, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("copying %s: %w", src, err)
		}
		n += m
		if i < len(archives)-1 && n%4 != 0 {
			pad, err := w.Write(make([]byte, 4-n%4))
			if err != nil {
				return err
			}
			n += int64(pad)
		}
	}
	return nil
}
