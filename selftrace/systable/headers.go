package systable

import (
	"fmt"
	"math/bits"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// kernelVersion reads VERSION.PATCHLEVEL.SUBLEVEL from the tree's Makefile.
func kernelVersion(src string) (string, error) {
	data, err := os.ReadFile(filepath.Join(src, "Makefile"))
	if err != nil {
		return "", fmt.Errorf("reading kernel version: %w", err)
	}
	v := map[string]string{}
	for _, line := range strings.SplitN(string(data), "\n", 20) {
		k, val, ok := strings.Cut(line, "=")
		if ok {
			v[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
	}
	if v["VERSION"] == "" || v["PATCHLEVEL"] == "" {
		return "", fmt.Errorf("%s/Makefile: no VERSION and PATCHLEVEL", src)
	}
	s := v["VERSION"] + "." + v["PATCHLEVEL"]
	if v["SUBLEVEL"] != "" {
		s += "." + v["SUBLEVEL"]
	}
	return s + v["EXTRAVERSION"], nil
}

// upperName reports whether s is prefix followed by at least one upper
// case letter, digit or (with underscore) '_'.
func upperName(s, prefix string, underscore bool) bool {
	if !strings.HasPrefix(s, prefix) || len(s) == len(prefix) {
		return false
	}
	for _, c := range s[len(prefix):] {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || underscore && c == '_') {
			return false
		}
	}
	return true
}

// uapi preprocesses <asm/name> as user space on the architecture sees it.
func uapi(src string, spec archSpec, name string) (*uapiHeaders, error) {
	u := newUAPI(src, spec.karch, spec.predef)
	rel := u.resolve(name)
	if rel == "" {
		return nil, fmt.Errorf("no header <%s>", name)
	}
	u.done[rel] = true
	if err := u.include(rel, 0); err != nil {
		return nil, err
	}
	return u, nil
}

// readHeaders reads errno names and messages, signal names, open flags and
// AT_FDCWD from the uapi headers.
func (t *table) readHeaders(src string, spec archSpec) error {
	u, err := uapi(src, spec, "asm/errno.h")
	if err != nil {
		return err
	}
	t.errnos = map[int64][2]string{}
	for _, d := range u.defs {
		if !upperName(d.name, "E", false) || !isIntLiteral(d.body) {
			continue // aliases (#define EWOULDBLOCK EAGAIN) keep the first name
		}
		v, err := evalExpr(d.body, u.m)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.file, d.name, err)
		}
		if _, dup := t.errnos[v]; !dup && v > 0 {
			t.errnos[v] = [2]string{d.name, d.comment}
		}
	}
	if len(t.errnos) < 100 {
		return fmt.Errorf("only %d errno values in <asm/errno.h>", len(t.errnos))
	}

	if u, err = uapi(src, spec, "asm/signal.h"); err != nil {
		return err
	}
	t.signals = map[int64]string{}
	for _, d := range u.defs {
		if !upperName(d.name, "SIG", false) || !isIntLiteral(d.body) {
			continue
		}
		v, err := evalExpr(d.body, u.m)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.file, d.name, err)
		}
		if _, dup := t.signals[v]; !dup && v >= 1 && v <= 31 {
			t.signals[v] = d.name
		}
	}
	for s := int64(1); s <= 31; s++ {
		if t.signals[s] == "" {
			return fmt.Errorf("<asm/signal.h> has no signal %d", s)
		}
	}

	if err := t.readOpenFlags(src, spec); err != nil {
		return err
	}

	// socketcall(2)'s subcalls (SYS_SOCKET 1 ...), which strace prints
	// by their own names.
	u = newUAPI(src, spec.karch, spec.predef)
	if err := u.include("include/uapi/linux/net.h", 0); err != nil {
		return err
	}
	t.socketcalls = map[int64]string{}
	for _, d := range u.defs {
		if !upperName(d.name, "SYS_", true) || !isIntLiteral(d.body) {
			continue
		}
		v, err := evalExpr(d.body, u.m)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.file, d.name, err)
		}
		if v >= 1 && v < 64 {
			t.socketcalls[v] = strings.ToLower(strings.TrimPrefix(d.name, "SYS_"))
		}
	}
	if t.socketcalls[1] != "socket" {
		return fmt.Errorf("include/uapi/linux/net.h: SYS_SOCKET is not 1")
	}

	u = newUAPI(src, spec.karch, spec.predef)
	if err := u.include("include/uapi/linux/fcntl.h", 0); err != nil {
		return err
	}
	if _, ok := u.m["AT_FDCWD"]; !ok {
		return fmt.Errorf("include/uapi/linux/fcntl.h defines no AT_FDCWD")
	}
	if t.atFDCWD, err = evalExpr("AT_FDCWD", u.m); err != nil {
		return fmt.Errorf("AT_FDCWD: %w", err)
	}
	return nil
}

// readOpenFlags reads the open(2) flags of <asm/fcntl.h> (the
// architecture's, which overrides some of asm-generic's).
//
// They are listed in the order asm-generic/fcntl.h defines them, except
// that a flag all of whose bits belong to a later flag of several bits
// (O_DSYNC in O_SYNC, O_DIRECTORY in O_TMPFILE) comes right after that
// one, so a decoder that takes the entries in order prints O_SYNC rather
// than O_DSYNC|O_SYNC; FASYNC (the kernel's name of O_ASYNC, in strace's
// table too) comes last. Left out: the access mode (O_ACCMODE, O_RDONLY,
// O_WRONLY, O_RDWR), masks (O_*_MASK), aliases (#define O_NDELAY O_NONBLOCK)
// and the internal __O_* names.
func (t *table) readOpenFlags(src string, spec archSpec) error {
	u, err := uapi(src, spec, "asm/fcntl.h")
	if err != nil {
		return err
	}
	genRel := "include/uapi/asm-generic/fcntl.h"
	gen, err := os.ReadFile(filepath.Join(src, genRel))
	if err != nil {
		return fmt.Errorf("reading open flags: %w", err)
	}
	pos := map[string]int{}
	for _, l := range splitC(string(gen)) {
		if name, rest, ok := directive(l.code); ok && name == "define" {
			if n := firstIdent(rest); pos[n] == 0 {
				pos[n] = len(pos) + 1
			}
		}
	}
	var flags, tail []flagEnt
	seen := map[string]bool{}
	for _, d := range u.defs {
		if seen[d.name] {
			continue
		}
		seen[d.name] = true
		switch {
		case d.name == "FASYNC":
		case !upperName(d.name, "O_", true), strings.HasSuffix(d.name, "_MASK"):
			continue
		case d.name == "O_ACCMODE", d.name == "O_RDONLY", d.name == "O_WRONLY", d.name == "O_RDWR":
			continue
		}
		if b := strings.TrimSpace(d.body); b != "" && firstIdent(b) == b && !isIntLiteral(b) {
			continue // an alias of another name
		}
		v, err := evalExpr(d.name, u.m)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.file, d.name, err)
		}
		if v <= 0 {
			continue // O_LARGEFILE is 0 on some 64-bit architectures
		}
		f := flagEnt{name: d.name, val: v}
		if strings.HasPrefix(d.name, "O_") {
			flags = append(flags, f)
		} else {
			tail = append(tail, f)
		}
	}
	// Definition order of asm-generic/fcntl.h; names it lacks keep the
	// order they were defined in, after the others.
	order := func(f flagEnt) int {
		if p, ok := pos[f.name]; ok {
			return p
		}
		return len(pos) + 1
	}
	sort.SliceStable(flags, func(i, j int) bool { return order(flags[i]) < order(flags[j]) })
	// Move each flag contained in a later composite right after it.
	for moved := true; moved; {
		moved = false
		for i := 0; i < len(flags) && !moved; i++ {
			f := flags[i]
			for j := i + 1; j < len(flags); j++ {
				c := flags[j]
				if bits.OnesCount64(uint64(c.val)) > 1 && c.val&f.val == f.val && c.val != f.val {
					rest := append([]flagEnt(nil), flags[i+1:j+1]...)
					rest = append(rest, f)
					flags = append(append(flags[:i:i], rest...), flags[j+1:]...)
					moved = true
					break
				}
			}
		}
	}
	t.oflags = append(flags, tail...)
	if len(t.oflags) < 10 {
		return fmt.Errorf("only %d open flags in <asm/fcntl.h>", len(t.oflags))
	}
	return nil
}
