package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// dropExecutablePages tells the kernel this process no longer needs the
// pages of its own executable resident (madvise MADV_DONTNEED on the
// read-only mappings of /proc/self/exe: code, read-only data, the Go
// function tables). Start-up touches far more of them than serving does:
// every package's init, the config and catalogue parsers, and the
// kernel's fault-around maps 64 KiB around each first touch. The pages
// stay in the page cache; the ones serving needs are mapped again on next
// use (a minor fault). Only mappings that cannot be written and hold no
// private (anonymous) page are advised: a dynamically linked build's
// relocated read-only data (RELRO) is private and must stay. It returns
// the bytes advised.
func dropExecutablePages() (int64, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, err
	}
	raw, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	var total int64
	for _, m := range readOnlyMappings(raw, exe) {
		if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, m.start, m.end-m.start, syscall.MADV_DONTNEED); errno != 0 {
			return total, fmt.Errorf("madvise %#x-%#x: %w", m.start, m.end, errno)
		}
		total += int64(m.end - m.start)
	}
	return total, nil
}

type mapping struct{ start, end uintptr }

// readOnlyMappings reads /proc/self/smaps text: the mappings of file path
// that are neither writable nor shared and have no anonymous page.
func readOnlyMappings(smaps []byte, path string) []mapping {
	var out []mapping
	keep := false // the last header read is in out
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) >= 5 && strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":") {
			keep = false
			lo, hi, ok := strings.Cut(f[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			name := ""
			if len(f) >= 6 {
				name = strings.Join(f[5:], " ")
			}
			perm := f[1]
			if ok && err1 == nil && err2 == nil && end > start && name == path && len(perm) == 4 && perm[1] == '-' && perm[3] == 'p' {
				out = append(out, mapping{uintptr(start), uintptr(end)})
				keep = true
			}
			continue
		}
		if keep && len(f) == 3 && f[0] == "Anonymous:" && f[1] != "0" {
			out = out[:len(out)-1] // private pages: leave alone
			keep = false
		}
	}
	return out
}
