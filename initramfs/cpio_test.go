package initramfs

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"testing"
)

// entry is one record of a newc archive.
type entry struct {
	mode uint64
	data []byte
}

func (e entry) isDir() bool     { return e.mode&0o170000 == 0o040000 }
func (e entry) isLink() bool    { return e.mode&0o170000 == 0o120000 }
func (e entry) isRegular() bool { return e.mode&0o170000 == 0o100000 }

// readNewc parses concatenated newc archives the way the kernel does: after
// a trailer, zero bytes are skipped and another archive may start on a
// 4-byte boundary. Later records replace earlier ones of the same name. It
// returns the records and the number of archives.
func readNewc(t *testing.T, b []byte) (map[string]entry, int) {
	t.Helper()
	out := map[string]entry{}
	archives := 0
	inArchive := false
	pos := 0
	hex := func(field int) uint64 {
		v, err := strconv.ParseUint(string(b[pos+6+8*field:pos+6+8*field+8]), 16, 64)
		if err != nil {
			t.Fatalf("offset %d: bad header field %d: %v", pos, field, err)
		}
		return v
	}
	for pos < len(b) {
		if !inArchive && b[pos] == 0 {
			pos++
			continue
		}
		if pos%4 != 0 {
			t.Fatalf("offset %d: archive not on a 4-byte boundary", pos)
		}
		if pos+110 > len(b) || string(b[pos:pos+6]) != "070701" {
			t.Fatalf("offset %d: no newc magic", pos)
		}
		if !inArchive {
			archives++
			inArchive = true
		}
		mode, size, namesize := hex(1), hex(6), hex(11)
		nameStart := pos + 110
		name := string(bytes.TrimRight(b[nameStart:nameStart+int(namesize)], "\x00"))
		dataStart := (nameStart + int(namesize) + 3) &^ 3
		dataEnd := dataStart + int(size)
		if dataEnd > len(b) {
			t.Fatalf("record %q: data past the end of the archive", name)
		}
		pos = (dataEnd + 3) &^ 3
		if name == "TRAILER!!!" {
			inArchive = false
			continue
		}
		out[name] = entry{mode: mode, data: b[dataStart:dataEnd]}
	}
	if inArchive {
		t.Fatal("archive without trailer")
	}
	return out, archives
}

func readNewcFile(t *testing.T, path string) (map[string]entry, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readNewc(t, b)
}

func (e entry) String() string { return fmt.Sprintf("mode %#o, %d bytes", e.mode, len(e.data)) }
