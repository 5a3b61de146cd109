package core

import "context"

// owner is the storage id of person, for tests that look at raw records;
// "" for a person never seen.
func (s *Service) owner(person string) string {
	var o string
	_ = s.store.View(context.Background(), func(tx Tx) error {
		var err error
		o, err = s.ownerOf(tx, person, false)
		return err
	})
	return o
}
