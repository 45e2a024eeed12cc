package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// machineDefaults are flag defaults that depend on the machine; help shows
// what they mean instead of this machine's value, so that the reference
// in the README is the same everywhere.
var machineDefaults = map[string]string{
	"arch":      "the host's architecture",
	"j":         "the number of CPUs",
	"cache-dir": "$SELFPTRACE_VM_CACHE, else $XDG_CACHE_HOME/selfptrace-vm or ~/.cache/selfptrace-vm",
}

// commonExits are the exit codes every verb shares.
var commonExits = []string{
	"0   success",
	"1   a test failed or the kernel misbehaved (fail, timeout, panic, boot_fail)",
	"2   usage error (unknown flag or command, a flag that does not apply, a bad value)",
	"3   the rig failed (missing tool, build or patch error, QEMU error)",
	"130 interrupted (SIGINT); 143 terminated (SIGTERM)",
}

// printHelp writes a verb's help: its usage line, its flags as --name,
// examples and exit codes.
func printHelp(w io.Writer, fs *flag.FlagSet, usage string) {
	name := fs.Name()
	fmt.Fprintf(w, "usage: selfptrace-vm %s %s\n", name, usage)
	c, _ := lookupCommand(name)
	if c.summary != "" {
		fmt.Fprintf(w, "\n%s.\n", upperFirst(c.summary))
	}
	fmt.Fprintf(w, "\nflags:\n")
	printFlags(w, fs)
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nexamples:\n")
		for _, ex := range c.examples {
			fmt.Fprintf(w, "  %s\n", ex)
		}
	}
	fmt.Fprintf(w, "\nexit codes:\n")
	exits := commonExits
	if len(c.exits) > 0 {
		exits = c.exits
	}
	for _, e := range exits {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// printFlags lists the flags with two dashes, their value's kind and their
// default, which is shown once: not for zero values, not when the text
// says it already.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		kind, text := flag.UnquoteUsage(f)
		dash := "--"
		if len(f.Name) == 1 {
			dash = "-" // -j, -v: as make and go spell them
		}
		line := "  " + dash + f.Name
		if kind != "" {
			line += " " + kind
		}
		def := f.DefValue
		if m, ok := machineDefaults[f.Name]; ok {
			def = m
		} else if kind == "string" || kind == "value" {
			def = fmt.Sprintf("%q", def)
		}
		switch {
		case strings.Contains(text, "(default"), f.DefValue == "", f.DefValue == "0", f.DefValue == "false", f.DefValue == "[]":
		default:
			text += " (default " + def + ")"
		}
		fmt.Fprintf(w, "%s\n        %s\n", line, text)
	})
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// lookupCommand finds a verb by name.
func lookupCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}
