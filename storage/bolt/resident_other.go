//go:build !linux

package bolt

import bbolt "go.etcd.io/bbolt"

// dropResident does nothing here: it is an economy for Linux's resident
// set (resident_linux.go).
func dropResident(*bbolt.DB, int64) {}
