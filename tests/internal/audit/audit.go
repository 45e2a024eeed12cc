// Package audit is a minimal audit daemon for guest tests: it takes the
// NETLINK_AUDIT socket, enables audit, adds syscall exit rules and reads
// the SYSCALL records the kernel sends it.
package audit

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Conn is a NETLINK_AUDIT socket registered as the audit daemon.
type Conn struct {
	fd    int
	seq   uint32
	rules [][]byte // the rules added, to delete at Close
}

// audit_status fields (include/uapi/linux/audit.h).
const (
	statusEnabled = 0x1
	statusPid     = 0x4
)

// AUDIT_FILTERKEY, the rule field that names a rule (the record's key=).
const fieldFilterKey = 210

// Open opens the audit socket, enables audit and makes this process the
// audit daemon: the kernel sends it the records.
func Open() (*Conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return nil, fmt.Errorf("socket(NETLINK_AUDIT) (CONFIG_AUDIT?): %w", err)
	}
	c := &Conn{fd: fd}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := c.setStatus(1, uint32(os.Getpid())); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return c, nil
}

// setStatus sends AUDIT_SET for enabled and pid.
func (c *Conn) setStatus(enabled, pid uint32) error {
	// struct audit_status: mask, enabled, failure, pid, ...
	var st [10]uint32
	st[0] = statusEnabled | statusPid
	st[1] = enabled
	st[3] = pid
	return c.request(unix.AUDIT_SET, unsafe.Slice((*byte)(unsafe.Pointer(&st)), unsafe.Sizeof(st)))
}

// AddSyscallRule adds an exit-filter rule: always audit system call nr
// made by a task whose syscall_get_arch() is arch. A non-empty key names
// the rule: its records carry key="KEY".
func (c *Conn) AddSyscallRule(nr int, arch uint32, key string) error {
	// struct audit_rule_data: flags, action, field_count,
	// mask[AUDIT_BITMASK_SIZE], fields[64], values[64], fieldflags[64],
	// buflen, buf[].
	const n = unix.AUDIT_BITMASK_SIZE
	const fields, values, flags, buflen = 3 + n, 3 + n + 64, 3 + n + 128, 3 + n + 192
	w := make([]uint32, buflen+1)
	w[0] = unix.AUDIT_FILTER_EXIT
	w[1] = unix.AUDIT_ALWAYS
	w[3+nr/32] |= 1 << (nr % 32)
	add := func(field, value uint32) {
		i := w[2]
		w[fields+i], w[values+i], w[flags+i] = field, value, unix.AUDIT_EQUAL
		w[2]++
	}
	add(unix.AUDIT_ARCH, arch)
	if key != "" {
		add(fieldFilterKey, uint32(len(key)))
		w[buflen] = uint32(len(key))
	}
	b := append(unsafe.Slice((*byte)(unsafe.Pointer(&w[0])), 4*len(w)), key...)
	if err := c.request(unix.AUDIT_ADD_RULE, b); err != nil {
		return fmt.Errorf("adding the audit rule for system call %d, arch %#x: %w", nr, arch, err)
	}
	c.rules = append(c.rules, b)
	return nil
}

// request sends one message and waits for its acknowledgement, skipping
// records that arrive meanwhile.
func (c *Conn) request(typ uint16, payload []byte) error {
	c.seq++
	msg := make([]byte, unix.NLMSG_HDRLEN+len(payload))
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], unix.NLM_F_REQUEST|unix.NLM_F_ACK)
	binary.NativeEndian.PutUint32(msg[8:], c.seq)
	copy(msg[unix.NLMSG_HDRLEN:], payload)
	if err := unix.Sendto(c.fd, msg, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("sending audit message %d: %w", typ, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		msgs, err := c.receive(time.Until(deadline))
		if err != nil {
			return fmt.Errorf("audit message %d: %w", typ, err)
		}
		for _, m := range msgs {
			if m.typ != unix.NLMSG_ERROR || m.seq != c.seq || len(m.data) < 4 {
				continue
			}
			if e := int32(binary.NativeEndian.Uint32(m.data)); e != 0 {
				return fmt.Errorf("audit message %d: %w", typ, unix.Errno(-e))
			}
			return nil
		}
	}
	return fmt.Errorf("audit message %d: no acknowledgement", typ)
}

// receive reads one datagram (waiting at most d) and parses its messages.
func (c *Conn) receive(d time.Duration) ([]nlMsg, error) {
	tv := unix.NsecToTimeval(max(d, time.Millisecond).Nanoseconds())
	if err := unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, err
	}
	buf := make([]byte, 1<<16)
	n, _, err := unix.Recvfrom(c.fd, buf, 0)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseNetlink(buf[:n]), nil
}

// nlMsg is one netlink message: its type, sequence number and payload.
type nlMsg struct {
	typ  uint16
	seq  uint32
	data []byte
}

// parseNetlink splits a datagram into messages. An audit record (type
// 1100 and up) comes alone in its datagram, and its nlmsg_len counts the
// text only, not the header: it takes the rest of the datagram.
func parseNetlink(b []byte) []nlMsg {
	var msgs []nlMsg
	for len(b) >= unix.NLMSG_HDRLEN {
		var m nlMsg
		l := int(binary.NativeEndian.Uint32(b[0:]))
		m.typ = binary.NativeEndian.Uint16(b[4:])
		m.seq = binary.NativeEndian.Uint32(b[8:])
		if m.typ >= 1100 || l < unix.NLMSG_HDRLEN || l > len(b) {
			l = len(b)
		}
		m.data = b[unix.NLMSG_HDRLEN:l]
		msgs = append(msgs, m)
		l = (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
		if l >= len(b) {
			break
		}
		b = b[l:]
	}
	return msgs
}

// SyscallRecords reads SYSCALL records and returns those keep accepts,
// until one of them satisfies last (it is returned too) or timeout passes.
func (c *Conn) SyscallRecords(keep, last func(rec string) bool, timeout time.Duration) ([]string, error) {
	var recs []string
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		msgs, err := c.receive(time.Until(deadline))
		if err != nil {
			return recs, err
		}
		for _, m := range msgs {
			if m.typ != unix.AUDIT_SYSCALL {
				continue
			}
			text := string(bytes.TrimRight(m.data, "\x00"))
			if !keep(text) {
				continue
			}
			recs = append(recs, text)
			if last(text) {
				return recs, nil
			}
		}
	}
	return recs, fmt.Errorf("the last record did not come within %v", timeout)
}

// Field returns the value of " name=" in an audit record: decimal except
// a0..a3 and arch, which the kernel writes in hex.
func Field(rec, name string) (uint64, error) {
	v, ok := StringField(rec, name)
	if !ok {
		return 0, fmt.Errorf("no %s= in %q", name, rec)
	}
	base := 10
	if name == "arch" || (len(name) == 2 && name[0] == 'a') {
		base = 16
	}
	return strconv.ParseUint(v, base, 64)
}

// StringField returns the text of " name=" in an audit record, without
// the quotes of a quoted value (key="b32").
func StringField(rec, name string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(rec))
	sc.Split(bufio.ScanWords)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+"="); ok {
			return strings.Trim(v, `"`), true
		}
	}
	return "", false
}

// Close deletes the rules, disables audit and gives up the daemon role.
func (c *Conn) Close() error {
	var errs []error
	for _, r := range c.rules {
		if err := c.request(unix.AUDIT_DEL_RULE, r); err != nil {
			errs = append(errs, fmt.Errorf("deleting an audit rule: %w", err))
		}
	}
	if err := c.setStatus(0, 0); err != nil {
		errs = append(errs, fmt.Errorf("disabling audit: %w", err))
	}
	unix.Close(c.fd)
	return errors.Join(errs...)
}

// FieldIs returns a record filter for SyscallRecords: the record has
// name=value (Field's parsing).
func FieldIs(name string, value uint64) func(rec string) bool {
	return func(rec string) bool {
		v, err := Field(rec, name)
		return err == nil && v == value
	}
}
