// Package guestsmoke is a small guest test suite with a known verdict (all
// pass, one skip), used by the initramfs package's tests to check an image
// end to end. It only makes sense inside the guest.
package guestsmoke

import (
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestUname(t *testing.T) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"amd64": "x86_64", "s390x": "s390x"}[runtime.GOARCH]
	if got := unix.ByteSliceToString(u.Machine[:]); got != want {
		t.Errorf("uname -m = %q, want %q", got, want)
	}
	t.Logf("kernel %s", unix.ByteSliceToString(u.Release[:]))
}

func TestFileSystems(t *testing.T) {
	for _, tc := range []struct {
		dir   string
		magic int64
	}{
		{"/proc", unix.PROC_SUPER_MAGIC},
		{"/sys", unix.SYSFS_MAGIC},
		{"/dev", unix.TMPFS_MAGIC}, // devtmpfs reports tmpfs's magic
		{"/tmp", unix.TMPFS_MAGIC},
	} {
		t.Run(strings.TrimPrefix(tc.dir, "/"), func(t *testing.T) {
			var st unix.Statfs_t
			if err := unix.Statfs(tc.dir, &st); err != nil {
				t.Fatal(err)
			}
			if int64(st.Type) != tc.magic {
				t.Errorf("%s: file system magic %#x, want %#x", tc.dir, st.Type, tc.magic)
			}
		})
	}
}

func TestTestdata(t *testing.T) {
	b, err := os.ReadFile("testdata/hello.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(b)); got != "hello from the host" {
		t.Errorf("testdata/hello.txt = %q", got)
	}
}

func TestEnv(t *testing.T) {
	if got := os.Getenv("GUESTSMOKE"); got != "1" {
		t.Errorf("GUESTSMOKE = %q, want 1 (from the test package's Env)", got)
	}
	if !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") {
		t.Errorf("GODEBUG = %q, want asyncpreemptoff=1 (from the plan's Env)", os.Getenv("GODEBUG"))
	}
}

func TestSkipped(t *testing.T) {
	t.Skip("skipped on purpose")
}
