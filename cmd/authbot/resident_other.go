//go:build !linux

package main

import "errors"

// dropExecutablePages is Linux only (resident_linux.go).
func dropExecutablePages() (int64, error) {
	return 0, errors.New("not supported on this system")
}
