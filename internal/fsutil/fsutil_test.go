package fsutil

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "f")
	if err := WriteFileAtomic(p, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, []byte("two"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(b) != "two" || st.Mode().Perm() != 0o644 {
		t.Errorf("content %q mode %v", b, st.Mode())
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Errorf("temporary files left: %v", ents)
	}
}

func TestCopyAndHash(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.WriteFile(src, []byte("hello"), 0o644)
	sum, err := CopyFile(filepath.Join(dir, "dst"), src, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	const want = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	if sum != want {
		t.Errorf("CopyFile sum %s", sum)
	}
	if h, _ := HashFile(filepath.Join(dir, "dst")); h != want {
		t.Errorf("HashFile %s", h)
	}
}

func TestLockExcludes(t *testing.T) {
	p := filepath.Join(t.TempDir(), "l.lock")
	l1, err := Acquire(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := false
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := Acquire(ctx, p, func() { waited = true }); err == nil {
		t.Fatal("second lock acquired while the first is held")
	}
	if !waited {
		t.Error("waiting callback not called")
	}
	l1.Unlock()
	l2, err := Acquire(context.Background(), p, nil)
	if err != nil {
		t.Fatalf("lock not released: %v", err)
	}
	l2.Unlock()
}
