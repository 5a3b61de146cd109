package main

import (
	"os"
	"slices"
	"testing"
)

// TestReadOnlyMappings: only the executable's mappings that can be neither
// written nor shared and hold no private page are advised; a dynamically
// linked build's relocated read-only data (anonymous pages in an r--p
// mapping) and every other file are left alone.
func TestReadOnlyMappings(t *testing.T) {
	const exe = "/opt/authbot/bin/authbot"
	header := func(r, perm, name string) string {
		return r + " " + perm + " 00000000 fd:01 1234          " + name + "\n"
	}
	fields := func(anon string) string {
		return "Size:               4096 kB\nRss:                1024 kB\nAnonymous:          " + anon + " kB\nVmFlags: rd ex mr mw me dw sd\n"
	}
	smaps := header("00400000-00500000", "r-xp", exe) + fields("0") +
		header("00500000-00600000", "r--p", exe) + fields("0") +
		header("00600000-00601000", "r--p", exe) + fields("4") + // RELRO
		header("00601000-00700000", "rw-p", exe) + fields("0") +
		header("00700000-00800000", "r--s", exe) + fields("0") +
		header("7f0000000000-7f0000100000", "r-xp", "/usr/lib/libc.so.6") + fields("0") +
		header("7f0000100000-7f0000200000", "r--p", exe+".old") + fields("0") +
		header("7f0000200000-7f0000300000", "rw-p", "") + fields("512") +
		header("7f0000300000-7f0000400000", "r--p", "/opt/authbot/bin/auth bot") + fields("0") +
		header("7f0000400000-7f0000500000", "r--p", exe) + // no fields at all: still read-only
		header("7f0000500000-7f0000600000", "r--p", exe) + fields("8")
	got := readOnlyMappings([]byte(smaps), exe)
	want := []mapping{{0x400000, 0x500000}, {0x500000, 0x600000}, {0x7f0000400000, 0x7f0000500000}}
	if !slices.Equal(got, want) {
		t.Errorf("readOnlyMappings = %#v, want %#v", got, want)
	}
	if got := readOnlyMappings([]byte(smaps), "/opt/authbot/bin/auth bot"); !slices.Equal(got, []mapping{{0x7f0000300000, 0x7f0000400000}}) {
		t.Errorf("a path with a space: %#v", got)
	}
}

// TestDropExecutablePages drops this test binary's own pages: the call
// succeeds, advises the code it runs, and the process goes on running it
// (the pages come back from the page cache).
func TestDropExecutablePages(t *testing.T) {
	n, err := dropExecutablePages()
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if n <= 0 || n > st.Size()+1<<20 {
		t.Errorf("advised %d bytes of a %d-byte executable", n, st.Size())
	}
	// Code and read-only data used after the drop still work.
	if got := readOnlyMappings([]byte("00400000-00500000 r-xp 0 fd:01 1 /x\n"), "/x"); len(got) != 1 {
		t.Errorf("after the drop: %v", got)
	}
}
