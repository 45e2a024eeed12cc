package kselftest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// keyVersion starts every key: change it whenever the recipe, the layout
// of an entry or the key's own format changes, so that old entries are
// never mistaken for new ones.
const keyVersion = "selfptrace-vm kselftest v3"

// keyPaths are the placeholders that stand for the real directories in
// the compiler commands hashed into a key, so that the key does not depend
// on where the tree and the cache are.
var keyPaths = buildPaths{Selftests: "$SELFTESTS", Headers: "$HDR", Shim: "$SHIM"}

// fileSum is a file and the SHA-256 of its content.
type fileSum struct {
	Name   string // relative to the selftests directory, or "$SHIM/..."
	SHA256 string
}

// programInputs is what one program's binary depends on besides the
// compiler and the headers.
type programInputs struct {
	Suite, Name string
	Args        []string  // compiler arguments, with keyPaths
	Deps        []fileSum // sources and local headers (gcc -MM)
	Settings    string    // SHA-256 of the suite's settings file, "" if none
}

// keyInputs is everything a set of binaries depends on.
type keyInputs struct {
	Arch     string
	Compiler string // compilerID
	Headers  string // hashTree of the installed uapi headers
	Programs []programInputs
}

// key hashes in into the cache key. It is a pure function of its input.
func key(in keyInputs) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\narch %q\ncompiler %q\nheaders %s\nprograms %d\n", keyVersion, in.Arch, in.Compiler, in.Headers, len(in.Programs))
	for _, p := range in.Programs {
		fmt.Fprintf(h, "program %q %q settings %q args %d\n", p.Suite, p.Name, p.Settings, len(p.Args))
		for _, a := range p.Args {
			fmt.Fprintf(h, "arg %q\n", a)
		}
		fmt.Fprintf(h, "deps %d\n", len(p.Deps))
		for _, d := range p.Deps {
			fmt.Fprintf(h, "dep %q %s\n", d.Name, d.SHA256)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashTree hashes the regular files and symbolic links under dir: their
// sorted relative names, kinds and contents, with a version prefix.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	io.WriteString(h, "selfptrace-vm tree hash v1\n")
	var names []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir {
			names = append(names, path)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, path := range names {
		rel, _ := filepath.Rel(dir, path)
		st, err := os.Lstat(path)
		if err != nil {
			return "", err
		}
		switch {
		case st.Mode().IsDir():
			fmt.Fprintf(h, "dir %q\n", rel)
		case st.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "link %q %q\n", rel, target)
		case st.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "file %q %d\n", rel, st.Size())
			n, err := io.Copy(h, f)
			f.Close()
			if err != nil {
				return "", err
			}
			if n != st.Size() {
				return "", fmt.Errorf("%s changed while it was hashed", path)
			}
		default:
			return "", fmt.Errorf("%s: unexpected file type %v", path, st.Mode().Type())
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// depName names a dependency in the key: relative to the selftests
// directory or the shim directory, so that two trees with the same
// sources give the same key. ok is false for a file under the headers
// directory, which the key covers as a whole.
func depName(p buildPaths, path string) (name string, ok bool) {
	path = filepath.Clean(path)
	under := func(dir string) (string, bool) {
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", false
		}
		return rel, true
	}
	if _, in := under(p.Headers); in {
		return "", false
	}
	if rel, in := under(p.Shim); in {
		return keyPaths.Shim + "/" + rel, true
	}
	if rel, in := under(p.Selftests); in {
		return rel, true
	}
	return path, true
}
