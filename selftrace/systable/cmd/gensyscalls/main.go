// Command gensyscalls writes selftrace's system call table header for one
// architecture from a Linux kernel source tree (see package
// selftrace/systable). It is a debugging aid; the build generates the
// header itself.
//
//	gensyscalls -src DIR -arch x86_64|s390x|arm64|riscv64 [-o FILE]
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/selfptrace/selfptrace-vm/selftrace/systable"
)

func main() {
	src := flag.String("src", "", "Linux kernel source tree")
	arch := flag.String("arch", "", "guest architecture: x86_64, s390x, arm64 or riscv64")
	out := flag.String("o", "", "output file (default: standard output)")
	flag.Parse()
	if *src == "" || *arch == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: gensyscalls -src DIR -arch ARCH [-o FILE]")
		os.Exit(2)
	}
	if err := run(*src, *arch, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gensyscalls:", err)
		os.Exit(1)
	}
}

func run(src, arch, out string) error {
	var buf bytes.Buffer
	if err := systable.Generate(src, arch, &buf); err != nil {
		return err
	}
	if out == "" {
		_, err := os.Stdout.Write(buf.Bytes())
		if err != nil {
			return fmt.Errorf("writing header: %w", err)
		}
		return nil
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing header: %w", err)
	}
	return nil
}
