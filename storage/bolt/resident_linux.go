package bolt

import (
	"os"
	"syscall"

	bbolt "go.etcd.io/bbolt"
)

// dropResident tells the kernel this process no longer needs the first
// size bytes of db's memory map resident (madvise MADV_DONTNEED). The map
// is bbolt's read-only MAP_SHARED view of the file (bbolt writes with
// pwrite, never through the map), so nothing can be lost: the pages stay
// in the page cache and the next read maps them again. Call it inside a
// transaction, which holds bbolt's mmap lock: the map cannot move or be
// replaced meanwhile. Errors are ignored, the advice is only an economy.
func dropResident(db *bbolt.DB, size int64) {
	ps := int64(os.Getpagesize())
	size = (size + ps - 1) / ps * ps
	if size <= 0 {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, db.Info().Data, uintptr(size), syscall.MADV_DONTNEED)
}
