package systable

import (
	"strings"
)

// argKind is how the C tracer prints an argument (enum st_argkind).
type argKind int

const (
	kInt argKind = iota
	kUint
	kHex
	kFD
	kDirFD
	kStr
	kInBuf
	kOutBuf
	kPtr
	kOct
	kOFlags
	kSig
	kArgv
	kEnvp
)

// String is the C enumerator.
func (k argKind) String() string {
	return [...]string{
		kInt: "ST_INT", kUint: "ST_UINT", kHex: "ST_HEX", kFD: "ST_FD", kDirFD: "ST_DIRFD",
		kStr: "ST_STR", kInBuf: "ST_INBUF", kOutBuf: "ST_OUTBUF", kPtr: "ST_PTR", kOct: "ST_OCT",
		kOFlags: "ST_OFLAGS", kSig: "ST_SIG", kArgv: "ST_ARGV", kEnvp: "ST_ENVP",
	}[k]
}

// retKind is how the C tracer prints a return value (enum st_retkind).
type retKind int

const (
	rDec retKind = iota
	rHex
	rNone
)

// String is the C enumerator.
func (k retKind) String() string {
	return [...]string{rDec: "ST_RDEC", rHex: "ST_RHEX", rNone: "ST_RNONE"}[k]
}

// isUnsigned and isSigned classify scalar types (qualifiers removed) by
// signedness. A type in neither is printed in hex and reported in the
// table's unknownTypes (the test wants none).
func isUnsigned(t string) bool {
	switch t {
	case "unsigned", "unsigned int", "unsigned long", "unsigned short", "unsigned char",
		"size_t", "uint", "ulong", "uintptr_t", "u8", "u16", "u32", "u64",
		"__u8", "__u16", "__u32", "__u64", "uid_t", "gid_t", "old_uid_t", "old_gid_t",
		"qid_t", "aio_context_t", "old_sigset_t", "umode_t":
		return true
	}
	return false
}

func isSigned(t string) bool {
	switch t {
	case "int", "long", "short", "signed int", "signed long", "s32", "__s32", "s64", "__s64",
		"pid_t", "off_t", "loff_t", "clockid_t", "timer_t", "key_t", "mqd_t", "key_serial_t",
		"rwf_t", "old_time32_t", "__kernel_old_time_t", "time_t", "ssize_t":
		return true
	}
	return strings.HasPrefix(t, "enum ")
}

// isPointerType reports the typedefs of user pointers.
func isPointerType(t string) bool {
	switch t {
	case "cap_user_header_t", "cap_user_data_t", "__sighandler_t":
		return true
	}
	return false
}

// baseType removes the qualifiers const, volatile and __user.
func baseType(t string) string {
	var out []string
	for _, w := range strings.Fields(t) {
		switch w {
		case "const", "volatile", "__user":
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// isLenName reports whether the name of an integer parameter that follows
// a buffer says it is the buffer's size ("length" only if a size_t:
// truncate's long length is a file size).
func isLenName(p param) bool {
	n := p.name
	if n == "length" {
		return baseType(p.typ) == "size_t"
	}
	switch n {
	case "count", "len", "size", "bufsiz", "nbytes", "buflen", "n":
		return true
	}
	return strings.HasSuffix(n, "len") || strings.HasSuffix(n, "_size")
}

// isAddrName reports the integer parameters that hold user addresses:
// printed like pointers (NULL or hex), as strace does.
func isAddrName(n string) bool {
	switch n {
	case "addr", "start", "end", "brk", "newsp", "new_addr", "old_addr", "tls":
		return true
	}
	return false
}

// isDirFDName reports the directory file descriptors, which may be
// AT_FDCWD: dfd, dirfd, olddfd, newdfd, from_dfd, mountdirfd, ...
func isDirFDName(n string) bool {
	for _, p := range []string{"old", "new", "from_", "to_", "mount"} {
		n = strings.TrimPrefix(n, p)
	}
	return n == "dfd" || n == "dirfd"
}

// isFDName reports the other file descriptors: fd, oldfd, epfd, fd_in,
// out_fd, pidfd, ...
func isFDName(n string) bool {
	return strings.HasSuffix(n, "fd") || strings.HasPrefix(n, "fd_")
}

// override gives the kind of the few parameters the kernel declares
// without const although the call only reads them: their data is printed
// before the call (sendto's buffer, setsockopt's value, the names of
// sethostname and setdomainname), or, for init_module's module image, just
// its address.
func override(sys, name string) (argKind, bool) {
	switch sys + "." + name {
	case "sendto.buff", "setsockopt.optval", "sethostname.name", "setdomainname.name":
		return kInBuf, true
	case "init_module.umod":
		return kPtr, true
	}
	return 0, false
}

// isOFlagsParam reports the parameters that are open(2) flags.
func isOFlagsParam(sys, name string) bool {
	switch sys {
	case "open", "openat", "open_by_handle_at":
		return name == "flags"
	case "mq_open":
		return name == "oflag"
	}
	return false
}

// classify chooses how each parameter of system call sys (its name in the
// table) is printed. unknown collects scalar types in neither list.
func classify(sys string, params []param, unknown map[string]bool) []argKind {
	kinds := make([]argKind, len(params))
	for i := range params {
		kinds[i] = classifyOne(sys, params, i, unknown)
	}
	return kinds
}

func classifyOne(sys string, params []param, i int, unknown map[string]bool) argKind {
	p := params[i]
	t, n := p.typ, p.name
	bt := baseType(t)
	if k, ok := override(sys, n); ok {
		return k
	}
	if strings.Contains(t, "*") || isPointerType(bt) {
		stars := strings.Count(t, "*")
		if stars == 2 && strings.HasPrefix(bt, "char") {
			switch n {
			case "argv":
				return kArgv
			case "envp":
				return kEnvp
			}
			return kPtr
		}
		if stars != 1 || (bt != "char *" && bt != "void *" && bt != "unsigned char *") {
			return kPtr
		}
		// A char or void buffer followed by its size is data, read
		// (const) or written by the call; else a const char * is a
		// string.
		isConst := strings.HasPrefix(t, "const ")
		if i+1 < len(params) && isScalar(params[i+1]) && isLenName(params[i+1]) {
			if isConst {
				return kInBuf
			}
			return kOutBuf
		}
		if isConst && strings.HasPrefix(bt, "char") {
			return kStr
		}
		return kPtr
	}
	integer := isSigned(bt) || isUnsigned(bt)
	switch {
	case !integer:
		unknown[bt] = true
		return kHex
	case isDirFDName(n):
		return kDirFD
	case isFDName(n):
		return kFD
	case bt == "umode_t":
		return kOct
	case isOFlagsParam(sys, n):
		return kOFlags
	case n == "sig" && isSigned(bt):
		return kSig
	case isUnsigned(bt) && isAddrName(n):
		return kPtr
	case isUnsigned(bt) && (strings.Contains(n, "flags") || strings.Contains(n, "mask") || n == "prot" || n == "sig"):
		return kHex
	case isUnsigned(bt):
		return kUint
	}
	return kInt
}

func isScalar(p param) bool {
	if strings.Contains(p.typ, "*") {
		return false
	}
	bt := baseType(p.typ)
	return isSigned(bt) || isUnsigned(bt)
}

// returnKind is how a system call's result is printed: addresses in hex,
// nothing for the calls that do not return.
func returnKind(name, entry string) retKind {
	switch strings.TrimPrefix(entry, "sys_") {
	case "mmap", "mmap2", "old_mmap", "mmap_pgoff", "mremap", "brk", "shmat":
		return rHex
	}
	switch name {
	case "mmap", "mmap2", "mremap", "brk", "shmat":
		return rHex
	case "exit", "exit_group":
		return rNone
	}
	return rDec
}
