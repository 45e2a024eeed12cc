package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/selfptrace/selfptrace-vm/internal/fsutil"
)

// stdoutPath is the output path that means standard output.
const stdoutPath = "-"

// outputFile is one result file asked for on the command line: its flag
// and its path ("-": standard output).
type outputFile struct {
	flag, path string
}

// checkOutputs checks every requested output path before any work: at most
// one of them is standard output, and each other one names a file whose
// directory exists (nothing creates it) and that is not a directory. A run
// of half an hour must not end on a typo in --json.
func checkOutputs(files ...outputFile) error {
	stdouts := 0
	for _, f := range files {
		switch {
		case f.path == "":
			continue
		case f.path == stdoutPath:
			if stdouts++; stdouts > 1 {
				return usagef("--%s -: only one output can go to standard output", f.flag)
			}
			continue
		}
		if fi, err := os.Stat(f.path); err == nil && fi.IsDir() {
			return usagef("--%s %s: is a directory", f.flag, f.path)
		}
		dir := filepath.Dir(f.path)
		fi, err := os.Stat(dir)
		if err != nil {
			return usagef("--%s %s: its directory %s does not exist", f.flag, f.path, dir)
		}
		if !fi.IsDir() {
			return usagef("--%s %s: %s is not a directory", f.flag, f.path, dir)
		}
		if err := checkWritable(dir); err != nil {
			return usagef("--%s %s: cannot write in %s: %v", f.flag, f.path, dir, err)
		}
	}
	return nil
}

// checkWritable creates and removes a file in dir.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".selfptrace-vm-check-*")
	if err != nil {
		return errors.Unwrap(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// anyToStdout reports whether one of the files is standard output (then
// the summary for people goes to standard error).
func anyToStdout(files ...outputFile) bool {
	for _, f := range files {
		if f.path == stdoutPath {
			return true
		}
	}
	return false
}

// writeOutput writes data to f's file atomically, or to stdout for "-".
func writeOutput(stdout io.Writer, f outputFile, data []byte) error {
	if f.path == stdoutPath {
		_, err := stdout.Write(data)
		return err
	}
	if err := fsutil.WriteFileAtomic(f.path, data, 0o644); err != nil {
		return fmt.Errorf("writing --%s %s: %w", f.flag, f.path, err)
	}
	return nil
}
