package cacheentry

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type info struct {
	Release string `json:"release"`
}

func publish(t *testing.T, final, key, content string) {
	t.Helper()
	s, err := Stage(final)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Discard()
	if err := os.WriteFile(s.Path("image"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Add("image"); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "config")
	os.WriteFile(src, []byte("CONFIG_A=y\n"), 0o644)
	if err := s.CopyIn("config", src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Publish(key, info{Release: "6.12"}); err != nil {
		t.Fatal(err)
	}
}

func TestPublishAndOpen(t *testing.T) {
	cache := t.TempDir()
	final := filepath.Join(cache, "kernels", "x86_64-abc")
	if _, err := Open(final, "k1", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open of nothing = %v, want not-exist", err)
	}
	publish(t, final, "k1", strings.Repeat("x", 1000))
	var in info
	e, err := Open(final, "k1", &in, "image", "config")
	if err != nil {
		t.Fatal(err)
	}
	if in.Release != "6.12" || e.Path("image") != filepath.Join(final, "image") || e.Meta.Format != Format {
		t.Errorf("entry %+v info %+v", e, in)
	}
	if st, err := os.Stat(final); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("entry directory: %v %v", st.Mode(), err)
	}
	// Nothing staged is left next to the entry.
	if ents, _ := os.ReadDir(filepath.Dir(final)); len(ents) != 1 {
		t.Errorf("left behind: %v", ents)
	}
	// Publishing the same key again keeps a sound entry.
	publish(t, final, "k1", strings.Repeat("x", 1000))
	if _, err := Open(final, "k1", nil); err != nil {
		t.Errorf("after a second publish: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(final)); len(ents) != 1 {
		t.Errorf("left behind after a second publish: %v", ents)
	}
}

func TestDamage(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(dir string)
		need   []string
		key    string
		reason string
	}{
		{"truncated", func(d string) { os.Truncate(filepath.Join(d, "image"), 10) }, nil, "k", "image: checksum differs"},
		{"file gone", func(d string) { os.Remove(filepath.Join(d, "config")) }, nil, "k", "config:"},
		{"bad meta", func(d string) { os.WriteFile(filepath.Join(d, MetaName), []byte("{"), 0o644) }, nil, "k", MetaName},
		{"old format", func(d string) {
			os.WriteFile(filepath.Join(d, MetaName), []byte(`{"key":"k","image_sha256":"00"}`), 0o644)
		}, nil, "k", "format 0"},
		{"other key", func(string) {}, nil, "other", "another key"},
		{"file not listed", func(string) {}, []string{"vmlinux"}, "k", "vmlinux is not in"},
	} {
		t.Run(c.name, func(t *testing.T) {
			final := filepath.Join(t.TempDir(), "e")
			publish(t, final, "k", "content")
			c.damage(final)
			_, err := Open(final, c.key, nil, c.need...)
			var de *DamagedError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), c.reason) || !strings.Contains(err.Error(), "damaged") {
				t.Fatalf("Open = %v, want damaged: %s", err, c.reason)
			}
			if _, err := os.Stat(final); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("damaged entry not removed: %v", err)
			}
		})
	}
}

func TestPublishReplacesDamaged(t *testing.T) {
	final := filepath.Join(t.TempDir(), "e")
	publish(t, final, "k", "one")
	os.Truncate(filepath.Join(final, "image"), 1)
	publish(t, final, "k", "two")
	e, err := Open(final, "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(e.Path("image")); string(b) != "two" {
		t.Errorf("image = %q", b)
	}
}

func TestDiscard(t *testing.T) {
	final := filepath.Join(t.TempDir(), "e")
	s, err := Stage(final)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(s.Path("f"), []byte("x"), 0o644)
	s.Discard()
	if ents, _ := os.ReadDir(filepath.Dir(final)); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv(EnvRoot, "/x/cache")
	if got := DefaultRoot(); got != "/x/cache" {
		t.Errorf("with %s set: %s", EnvRoot, got)
	}
	t.Setenv(EnvRoot, "")
	t.Setenv("XDG_CACHE_HOME", "/y")
	if got := DefaultRoot(); got != "/y/selfptrace-vm" {
		t.Errorf("with XDG_CACHE_HOME: %s", got)
	}
}
