// Package cacheentry is the one format of the rig's cache entries (kernels,
// kselftest binaries, u-root base images): a directory holding the files
// and a meta.json that records the format version, the entry's key, each
// file's SHA-256 and the owner's own fields. An entry is staged in a
// temporary directory next to its final place and published by a rename,
// so that it exists whole or not at all; Open checks every checksum, so a
// truncated or damaged entry is found and rebuilt.
package cacheentry

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// Format is the version of the layout below. Change it (and the owners'
// key versions) whenever the layout changes.
const Format = 1

// MetaName is the name of the manifest inside an entry.
const MetaName = "meta.json"

// Meta is the manifest of an entry.
type Meta struct {
	Format int    `json:"format"`
	Key    string `json:"key"`
	// Files maps each file of the entry, by its name in the entry
	// directory, to the hex SHA-256 of its content.
	Files map[string]string `json:"files"`
	// Info holds the owner's own fields.
	Info json.RawMessage `json:"info,omitempty"`
}

// Entry is a published entry whose files match their checksums.
type Entry struct {
	Dir  string
	Meta Meta
}

// Path is the path of the file called name in the entry.
func (e *Entry) Path(name string) string { return filepath.Join(e.Dir, name) }

// DamagedError says why an entry cannot be used.
type DamagedError struct {
	Dir    string
	Reason string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("cache entry %s is damaged (%s)", e.Dir, e.Reason)
}

// Open returns the entry in dir if its meta.json has this format and key,
// lists every file in need and every file matches its checksum; the
// owner's fields are decoded into info unless it is nil. A missing entry
// is an error that wraps fs.ErrNotExist; any other failure is a
// *DamagedError, and the damaged entry is removed so that it is rebuilt.
func Open(dir, key string, info any, need ...string) (*Entry, error) {
	data, err := os.ReadFile(filepath.Join(dir, MetaName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	e, reason := check(dir, key, data, err, info, need)
	if reason != "" {
		os.RemoveAll(dir)
		return nil, &DamagedError{Dir: dir, Reason: reason}
	}
	return e, nil
}

func check(dir, key string, data []byte, readErr error, info any, need []string) (*Entry, string) {
	if readErr != nil {
		return nil, readErr.Error()
	}
	e := &Entry{Dir: dir}
	if err := json.Unmarshal(data, &e.Meta); err != nil {
		return nil, MetaName + ": " + err.Error()
	}
	switch {
	case e.Meta.Format != Format:
		return nil, fmt.Sprintf("format %d, want %d", e.Meta.Format, Format)
	case e.Meta.Key != key:
		return nil, "another key"
	case len(e.Meta.Files) == 0:
		return nil, "no files"
	}
	for _, n := range need {
		if _, ok := e.Meta.Files[n]; !ok {
			return nil, n + " is not in " + MetaName
		}
	}
	names := make([]string, 0, len(e.Meta.Files))
	for n := range e.Meta.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		got, err := fsutil.HashFile(e.Path(n))
		if err != nil {
			return nil, n + ": " + err.Error()
		}
		if got != e.Meta.Files[n] {
			return nil, n + ": checksum differs, truncated or corrupted"
		}
	}
	if info != nil && len(e.Meta.Info) > 0 {
		if err := json.Unmarshal(e.Meta.Info, info); err != nil {
			return nil, MetaName + " info: " + err.Error()
		}
	}
	return e, ""
}

// Staging is an entry being built, in a temporary directory next to its
// final place. Discard it when done (deferred): after Publish it does
// nothing.
type Staging struct {
	dir   string
	final string
	files map[string]string
}

// Stage starts the entry that will live at final.
func Stage(final string) (*Staging, error) {
	parent := filepath.Dir(final)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(parent, ".tmp-"+filepath.Base(final)+"-")
	if err != nil {
		return nil, err
	}
	return &Staging{dir: dir, final: final, files: map[string]string{}}, nil
}

// Dir is the temporary directory; files written there are added with Add.
func (s *Staging) Dir() string { return s.dir }

// Path is where the file called name is staged.
func (s *Staging) Path(name string) string { return filepath.Join(s.dir, name) }

// Add records the checksum of a file written at Path(name) and returns it.
func (s *Staging) Add(name string) (string, error) {
	sum, err := fsutil.HashFile(s.Path(name))
	if err != nil {
		return "", err
	}
	s.files[name] = sum
	return sum, nil
}

// CopyIn copies src into the entry as name.
func (s *Staging) CopyIn(name, src string, perm os.FileMode) error {
	sum, err := fsutil.CopyFile(s.Path(name), src, perm)
	if err != nil {
		return err
	}
	s.files[name] = sum
	return nil
}

// Publish writes meta.json and renames the entry into place. If a sound
// entry with the same key is already there (built meanwhile by someone
// who did not share our lock), it is kept and the staged one dropped; any
// other entry in the way is replaced.
func (s *Staging) Publish(key string, info any) error {
	m := Meta{Format: Format, Key: key, Files: s.files}
	if info != nil {
		raw, err := json.Marshal(info)
		if err != nil {
			return err
		}
		m.Info = raw
	}
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(s.Path(MetaName), append(data, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(s.dir, s.final); err != nil {
		if _, oerr := Open(s.final, key, nil); oerr == nil {
			s.Discard()
			return nil
		}
		if err := os.RemoveAll(s.final); err != nil {
			return err
		}
		if err := os.Rename(s.dir, s.final); err != nil {
			return err
		}
	}
	s.dir = ""
	return nil
}

// Discard removes the staged files, unless they were published.
func (s *Staging) Discard() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}
