package bolt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/authbot/authbot/core"
)

// nestedRecs are the records of the old-layout files these tests build:
// the empty owner, owners and ids with NUL and 0xFF bytes, byte orders
// that differ from the order owners would get numbers in, the marked
// record smashMarkedPage finds, and enough others to span several pages.
func nestedRecs() map[core.Ref][]byte {
	recs := map[core.Ref][]byte{}
	owners := []string{"", "zed", "Aa", "a\x00", "a\x00b", "\xff", "\xff\x00", "dGhpcyBpcyBhbiBvcGFxdWUgaWQ", "owner0"}
	ids := []string{"1", "\x00", "a\x00", "\xff", "\xff\xff", "id\x00\xff", "0123456789abcdef", // (appendID's forms:)
		"fedcba9876543210", "0123456789ABCDEF", "0123456789abcde", "0123456789abcdef0", "\x01", "\x01\x01", "\x02", "g"}
	for _, kind := range []string{"account", "index", "person"} {
		for oi, o := range owners {
			for ii, id := range ids {
				if (oi+ii)%3 == 0 && kind != "account" {
					continue // not every owner has every record
				}
				recs[core.Ref{Kind: kind, Owner: o, ID: id}] = fmt.Appendf(nil, "sealed %s/%q/%q", kind, o, id)
			}
		}
	}
	for i := range 300 {
		recs[core.Ref{Kind: "account", Owner: fmt.Sprint("many", i%13), ID: fmt.Sprintf("%016x", i*7919)}] = bytes.Repeat([]byte{byte(i)}, 100+i%50)
	}
	recs[core.Ref{Kind: "account", Owner: "owner0", ID: "marked"}] = marker
	return recs
}

// writeNested writes recs to a new file at path in the layout main wrote
// before the flat one (storage/bolt before issue 21's item 2): a bucket
// per kind, in it a bucket per owner ("\x00" for the empty owner), keys
// the ids; 2 KiB pages. It uses bbolt directly, so it does not depend on
// the code under test.
func writeNested(t *testing.T, path string, recs map[core.Ref][]byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{PageSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(btx *bbolt.Tx) error {
		for ref, v := range recs {
			kb, err := btx.CreateBucketIfNotExists([]byte(ref.Kind))
			if err != nil {
				return err
			}
			owner := ref.Owner
			if owner == "" {
				owner = "\x00"
			}
			ob, err := kb.CreateBucketIfNotExists([]byte(owner))
			if err != nil {
				return err
			}
			if err := ob.Put([]byte(ref.ID), v); err != nil {
				return err
			}
		}
		// An owner bucket left empty (the old Delete removed those, but
		// a file may hold one) has no records and no owner.
		kb := btx.Bucket([]byte("person"))
		_, err := kb.CreateBucket([]byte("empty-owner"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeFlat1 writes recs to a new file at path in the flat-1 layout
// (storage/bolt before flat-2): a bucket per kind, keys owner number ||
// id in flat-1's forms (appendKey), the owner dictionary in its two
// buckets with numbers given in reverse byte order of the owners (as
// arrival may give them), the layout marker; 2 KiB pages. Only the key
// forms come from the code under test (FuzzKeyForms and TestIDForms pin
// them).
func writeFlat1(t *testing.T, path string, recs map[core.Ref][]byte) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{PageSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for ref := range recs {
		if ref.Owner != "" {
			owners = append(owners, ref.Owner)
		}
	}
	slices.Sort(owners)
	owners = slices.Compact(owners)
	slices.Reverse(owners)
	nums := map[string]uint32{"": 0}
	err = db.Update(func(btx *bbolt.Tx) error {
		ob, err := btx.CreateBucket([]byte(ownersBucket))
		if err != nil {
			return err
		}
		nb, err := btx.CreateBucket([]byte(numbersBucket))
		if err != nil {
			return err
		}
		for _, o := range owners {
			seq, err := nb.NextSequence()
			if err != nil {
				return err
			}
			nums[o] = uint32(seq)
			if err := ob.Put([]byte(o), appendNum(nil, uint32(seq))); err != nil {
				return err
			}
			if err := nb.Put(appendNum(nil, uint32(seq)), []byte(o)); err != nil {
				return err
			}
		}
		for ref, v := range recs {
			kb, err := btx.CreateBucketIfNotExists([]byte(ref.Kind))
			if err != nil {
				return err
			}
			if err := kb.Put(appendKey(nil, nums[ref.Owner], ref.ID), v); err != nil {
				return err
			}
		}
		mb, err := btx.CreateBucket([]byte(metaBucket))
		if err != nil {
			return err
		}
		return mb.Put([]byte(layoutKey), []byte(flat1Marker))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// oldLayouts are the layouts a read-write Open converts, with a writer
// of files in each.
var oldLayouts = []struct {
	name  string
	write func(t *testing.T, path string, recs map[core.Ref][]byte)
}{{"nested", writeNested}, {"flat-1", writeFlat1}}

// storeView is everything core can read from a store.
type storeView struct {
	each   []string // ForEach, in order
	lists  map[string][]string
	owners map[string][]string
	gets   map[core.Ref]string
}

func viewAll(t *testing.T, s *Store, recs map[core.Ref][]byte) storeView {
	t.Helper()
	v := storeView{lists: map[string][]string{}, owners: map[string][]string{}, gets: map[core.Ref]string{}}
	err := s.ForEach(context.Background(), func(ref core.Ref, sealed []byte) error {
		v.each = append(v.each, fmt.Sprintf("%q %q %q = %q", ref.Kind, ref.Owner, ref.ID, sealed))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx core.Tx) error {
		for _, kind := range []string{"account", "index", "person", "nokind"} {
			owners, err := tx.Owners(kind)
			if err != nil {
				return err
			}
			v.owners[kind] = owners
			for _, o := range append(owners, "", "unknown", "empty-owner") {
				ids, err := tx.List(kind, o)
				if err != nil {
					return err
				}
				v.lists[fmt.Sprintf("%q %q", kind, o)] = ids
			}
		}
		for ref := range recs {
			got, err := tx.Get(ref)
			if err != nil {
				return fmt.Errorf("get %q: %w", ref, err)
			}
			v.gets[ref] = string(got)
		}
		if _, err := tx.Get(core.Ref{Kind: "account", Owner: "unknown", ID: "1"}); !errors.Is(err, core.ErrNotFound) {
			return fmt.Errorf("get of an unknown owner: %v, want ErrNotFound", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantView compares a view with what recs say it must be.
func wantView(t *testing.T, got storeView, recs map[core.Ref][]byte) {
	t.Helper()
	refs := slices.SortedFunc(maps.Keys(recs), cmpRef)
	var each []string
	owners := map[string][]string{}
	lists := map[string][]string{}
	for _, r := range refs {
		each = append(each, fmt.Sprintf("%q %q %q = %q", r.Kind, r.Owner, r.ID, recs[r]))
		list := fmt.Sprintf("%q %q", r.Kind, r.Owner)
		lists[list] = append(lists[list], r.ID)
		if r.Owner != "" && !slices.Contains(owners[r.Kind], r.Owner) {
			owners[r.Kind] = append(owners[r.Kind], r.Owner)
		}
	}
	if !slices.Equal(got.each, each) {
		t.Errorf("ForEach:\n got %q\nwant %q", got.each, each)
	}
	for _, kind := range []string{"account", "index", "person"} {
		if !slices.Equal(got.owners[kind], owners[kind]) {
			t.Errorf("Owners(%q) = %q, want %q", kind, got.owners[kind], owners[kind])
		}
	}
	for list, ids := range lists {
		if !slices.Equal(got.lists[list], ids) {
			t.Errorf("List(%s) = %q, want %q", list, got.lists[list], ids)
		}
	}
	for ref, v := range recs {
		if got.gets[ref] != string(v) {
			t.Errorf("Get(%q) = %q, want %q", ref, got.gets[ref], v)
		}
	}
}

func cmpRef(a, b core.Ref) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Owner, b.Owner); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// fileFlat reports whether the closed file at path carries the flat
// layout's marker, read with bbolt directly.
func fileFlat(t *testing.T, path string) bool {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var flat bool
	_ = db.View(func(btx *bbolt.Tx) error { flat = layoutOf(btx) == layoutFlat2; return nil })
	return flat
}

// TestMigrate: an old file (nested or flat-1) reads the same before its conversion
// (read-only open, which converts nothing), after it, and after a second
// open, which writes nothing.
func TestMigrate(t *testing.T) {
	for _, lay := range oldLayouts {
		t.Run(lay.name, func(t *testing.T) {
			path := dbPath(t)
			recs := nestedRecs()
			lay.write(t, path, recs)
			old := readFile(t, path)

			ro := openT(t, path, Options{ReadOnly: true})
			before := viewAll(t, ro, recs)
			wantView(t, before, recs)
			if err := ro.Update(context.Background(), func(core.Tx) error { return nil }); err == nil {
				t.Error("Update on a read-only store succeeded")
			}
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(old, readFile(t, path)) || fileFlat(t, path) {
				t.Fatal("a read-only open changed the old file")
			}

			s := openT(t, path, Options{})
			after := viewAll(t, s, recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !fileFlat(t, path) {
				t.Fatal("a read-write open left the file in the nested layout")
			}
			wantView(t, after, recs)
			if !slices.Equal(before.each, after.each) || !maps.EqualFunc(before.lists, after.lists, slices.Equal) ||
				!maps.EqualFunc(before.owners, after.owners, slices.Equal) || !maps.Equal(before.gets, after.gets) {
				t.Fatal("the converted file reads differently from the old one")
			}

			converted := readFile(t, path)
			s = openT(t, path, Options{})
			again := viewAll(t, s, recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(converted, readFile(t, path)) {
				t.Error("a second open of a converted file wrote to it")
			}
			if !slices.Equal(again.each, after.each) {
				t.Error("the second open reads differently")
			}
		})
	}
}

// TestMigrateAborted: a conversion that fails midway (here at its 100th
// record) leaves the old file byte for byte as it was, and a later open
// converts it.
func TestMigrateAborted(t *testing.T) {
	for _, lay := range oldLayouts {
		t.Run(lay.name, func(t *testing.T) {
			path := dbPath(t)
			recs := nestedRecs()
			lay.write(t, path, recs)
			old := readFile(t, path)
			fail := errors.New("power cut")
			for _, opts := range []Options{{}, {CheckInBackground: true}} {
				opts.onMigratePut = func(n int) error {
					if n == 100 {
						return fail
					}
					return nil
				}
				s, err := Open(context.Background(), path, opts)
				if err == nil {
					err = s.Checked(context.Background())
					if cerr := s.Close(); cerr != nil {
						t.Fatal(cerr)
					}
				}
				if !errors.Is(err, fail) || !strings.Contains(err.Error(), path) {
					t.Fatalf("background %v: err = %v, want the conversion's failure naming the file", opts.CheckInBackground, err)
				}
				if !bytes.Equal(old, readFile(t, path)) {
					t.Fatalf("background %v: an aborted conversion changed the file", opts.CheckInBackground)
				}
			}
			s := openT(t, path, Options{})
			wantView(t, viewAll(t, s, recs), recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !fileFlat(t, path) {
				t.Fatal("the open after an aborted conversion did not convert")
			}
		})
	}
}

// TestMigrateNotOnDamage: an old file that fails the check is refused
// and not converted, whether the check runs in Open or in the background
// (wantCorrupt and wantCorruptLater also check the bytes are unchanged).
func TestMigrateNotOnDamage(t *testing.T) {
	for _, lay := range oldLayouts {
		t.Run(lay.name, func(t *testing.T) {
			for _, background := range []bool{false, true} {
				path := dbPath(t)
				lay.write(t, path, nestedRecs())
				smashMarkedPage(t, path)
				if background {
					wantCorruptLater(t, path)
				} else {
					wantCorrupt(t, path)
				}
			}
		})
	}
}

// TestMigrateAfterBackgroundCheck: with CheckInBackground, the old file
// is read as it is, and not converted, until the check has passed.
func TestMigrateAfterBackgroundCheck(t *testing.T) {
	path := dbPath(t)
	recs := nestedRecs()
	writeNested(t, path, recs)
	old := readFile(t, path)
	release := make(chan struct{})
	s, err := Open(context.Background(), path, Options{CheckInBackground: true, beforeCheck: func() { <-release }})
	if err != nil {
		t.Fatal(err)
	}
	wantView(t, viewAll(t, s, recs), recs)
	if !bytes.Equal(old, readFile(t, path)) {
		close(release)
		t.Fatal("the file changed before its check passed")
	}
	close(release)
	if err := s.Checked(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantView(t, viewAll(t, s, recs), recs)
	put(t, s, core.Ref{Kind: "account", Owner: "new", ID: "1"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if !fileFlat(t, path) {
		t.Fatal("not converted after the check passed")
	}
}

// TestRestoredOldBackupConverts: a backup of an old file (the copy is a
// bbolt file in the same layout) converts when opened read-write.
func TestRestoredOldBackupConverts(t *testing.T) {
	for _, lay := range oldLayouts {
		t.Run(lay.name, func(t *testing.T) {
			path := dbPath(t)
			recs := nestedRecs()
			lay.write(t, path, recs)
			ro := openT(t, path, Options{ReadOnly: true})
			var buf bytes.Buffer
			if _, err := ro.Backup(context.Background(), &buf); err != nil {
				t.Fatal(err)
			}
			if err := ro.Close(); err != nil {
				t.Fatal(err)
			}
			restored := dbPath(t)
			if err := os.WriteFile(restored, buf.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			s := openT(t, restored, Options{})
			wantView(t, viewAll(t, s, recs), recs)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if !fileFlat(t, restored) {
				t.Fatal("the restored old backup was not converted")
			}
		})
	}
}

// dictEntries returns the owner dictionary of the closed file at path,
// both ways.
func dictEntries(t *testing.T, path string) (owners map[string]uint32, numbers map[uint32]string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owners, numbers = map[string]uint32{}, map[uint32]string{}
	err = db.View(func(btx *bbolt.Tx) error {
		b := btx.Bucket([]byte(recordsBucket))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			switch {
			case bytes.HasPrefix(k, []byte{dictCode, dictOwner}):
				num, _, _ := readNum(v)
				owners[string(k[2:])] = num
			case bytes.HasPrefix(k, []byte{dictCode, dictNumber}):
				num, _, _ := readNum(k[2:])
				numbers[num] = string(v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return owners, numbers
}

// TestOwnerDictionary: a number per owner with records, both ways; reads
// of an unknown owner add none (even inside an Update); an owner whose
// last record of every kind is deleted leaves no entry; numbers are not
// handed out again.
func TestOwnerDictionary(t *testing.T) {
	path := dbPath(t)
	s := openT(t, path, Options{})
	ctx := context.Background()
	put(t, s,
		core.Ref{Kind: "account", Owner: "alice", ID: "1"},
		core.Ref{Kind: "account", Owner: "alice", ID: "2"},
		core.Ref{Kind: "person", Owner: "alice", ID: "key"},
		core.Ref{Kind: "account", Owner: "bob", ID: "1"},
		core.Ref{Kind: "meta", Owner: "", ID: "version"},
	)
	err := s.Update(ctx, func(tx core.Tx) error {
		if _, err := tx.Get(core.Ref{Kind: "account", Owner: "carol", ID: "1"}); !errors.Is(err, core.ErrNotFound) {
			return fmt.Errorf("get: %v", err)
		}
		if ids, err := tx.List("account", "carol"); err != nil || ids != nil {
			return fmt.Errorf("list: %q, %v", ids, err)
		}
		if err := tx.Delete(core.Ref{Kind: "account", Owner: "carol", ID: "1"}); !errors.Is(err, core.ErrNotFound) {
			return fmt.Errorf("delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	owners, numbers := dictEntries(t, path)
	if want := map[string]uint32{"alice": 1, "bob": 2}; !maps.Equal(owners, want) {
		t.Fatalf("owners = %v, want %v", owners, want)
	}
	if want := map[uint32]string{1: "alice", 2: "bob"}; !maps.Equal(numbers, want) {
		t.Fatalf("numbers = %v, want %v", numbers, want)
	}

	// Forget alice: her records of one kind first (she still has one of
	// another), then the last, and in the same transaction a new owner.
	s = openT(t, path, Options{})
	err = s.Update(ctx, func(tx core.Tx) error {
		for _, id := range []string{"1", "2"} {
			if err := tx.Delete(core.Ref{Kind: "account", Owner: "alice", ID: id}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if owners, _ := dictEntries(t, path); owners["alice"] != 1 {
		t.Fatalf("alice lost her number while a record of hers remains: %v", owners)
	}
	s = openT(t, path, Options{})
	err = s.Update(ctx, func(tx core.Tx) error {
		if err := tx.Delete(core.Ref{Kind: "person", Owner: "alice", ID: "key"}); err != nil {
			return err
		}
		if err := tx.Put(core.Ref{Kind: "account", Owner: "dave", ID: "1"}, []byte("d")); err != nil {
			return err
		}
		// A number out of the names' order: Owners and ForEach still
		// return byte order.
		return tx.Put(core.Ref{Kind: "account", Owner: "aaron", ID: "1"}, []byte("a"))
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.View(ctx, func(tx core.Tx) error {
		if owners, err := tx.Owners("account"); err != nil || !slices.Equal(owners, []string{"aaron", "bob", "dave"}) {
			t.Errorf("Owners(account) = %q, %v", owners, err)
		}
		return nil
	})
	var each []string
	_ = s.ForEach(ctx, func(ref core.Ref, _ []byte) error {
		each = append(each, ref.Kind+"/"+ref.Owner+"/"+ref.ID)
		return nil
	})
	if want := []string{"account/aaron/1", "account/bob/1", "account/dave/1", "meta//version"}; !slices.Equal(each, want) {
		t.Errorf("ForEach = %q, want %q", each, want)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	owners, numbers = dictEntries(t, path)
	if want := map[string]uint32{"bob": 2, "dave": 3, "aaron": 4}; !maps.Equal(owners, want) {
		t.Fatalf("after forgetting alice, owners = %v, want %v", owners, want)
	}
	if want := map[uint32]string{2: "bob", 3: "dave", 4: "aaron"}; !maps.Equal(numbers, want) {
		t.Fatalf("after forgetting alice, numbers = %v, want %v", numbers, want)
	}

	// Put then delete in one transaction: no trace either.
	s = openT(t, path, Options{})
	err = s.Update(ctx, func(tx core.Tx) error {
		ref := core.Ref{Kind: "account", Owner: "eve", ID: "1"}
		if err := tx.Put(ref, []byte("e")); err != nil {
			return err
		}
		return tx.Delete(ref)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if owners, _ := dictEntries(t, path); len(owners) != 3 {
		t.Fatalf("owners = %v, want aaron, bob and dave only", owners)
	}
}

// TestOwnerNumbers: the encoding keeps order, is prefix-free, round-trips,
// and refuses the forms it never writes.
func TestOwnerNumbers(t *testing.T) {
	nums := []uint32{0, 1, 127, 128, 255, 256, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<28 - 1, 1 << 28, 1<<32 - 1}
	var prev []byte
	for i, num := range nums {
		enc := appendNum(nil, num)
		got, n, err := readNum(append(enc, 'x'))
		if err != nil || got != num || n != len(enc) {
			t.Errorf("readNum(appendNum(%d)) = %d, %d, %v", num, got, n, err)
		}
		if i > 0 && (bytes.Compare(prev, enc) >= 0 || bytes.HasPrefix(enc, prev)) {
			t.Errorf("appendNum(%d) = %x does not sort after, or starts with, %x", num, enc, prev)
		}
		prev = enc
	}
	for _, bad := range [][]byte{
		nil,
		{0x80},                   // short
		{0x80, 0x05},             // 5 in two bytes: over-long
		{0xC0, 0x00, 0x7F},       // over-long
		{0xF0, 0x00, 0x00, 0x10}, // short
		{0xF0, 0x00, 0xFF, 0xFF, 0xFF},
		{0xF8, 1, 2, 3, 4, 5},
		{0xFF},
	} {
		if num, n, err := readNum(bad); err == nil {
			t.Errorf("readNum(%x) = %d, %d, want an error", bad, num, n)
		}
	}
	if _, _, err := splitKey([]byte{0x01}); err == nil {
		t.Error("splitKey of a number without an id succeeded")
	}
}

// TestIDForms: ids round-trip through the forms keys store them in, and
// forms appendID never writes are refused.
func TestIDForms(t *testing.T) {
	for _, id := range []string{"0123456789abcdef", "ffffffffffffffff", "0000000000000000", "0123456789ABCDEF",
		"0123456789abcde", "0123456789abcdef0", "accounts", "\x00", "\x01", "\x01\x00", "\x02", "\xff", "a\x00b"} {
		stored := appendID(nil, id)
		got, err := readID(stored)
		if err != nil || got != id {
			t.Errorf("readID(appendID(%q)) = %q, %v", id, got, err)
		}
		if packable(id) && len(stored) != 9 {
			t.Errorf("appendID(%q) = %x, want 9 bytes", id, stored)
		}
	}
	for _, bad := range [][]byte{
		nil,
		{idPacked},
		{idPacked, 1, 2, 3, 4, 5, 6, 7},       // short
		{idPacked, 1, 2, 3, 4, 5, 6, 7, 8, 9}, // long
		{idEscaped},
		{idEscaped, 'a'},           // needless escape
		[]byte("0123456789abcdef"), // a packable id unpacked
	} {
		if id, err := readID(bad); err == nil {
			t.Errorf("readID(%x) = %q, want an error", bad, id)
		}
	}
}
