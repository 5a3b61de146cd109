package core

// The message lifecycle records of bots/outbox (scheduled edits and
// deletions of chat messages) live in the Store beside everything else.
// Their kind, key purpose and associated data are named here, in core, so
// a master key rotation (rotate.go) can seal them again under the new
// root; bots/outbox uses the same names.
const (
	// KindOutbox is the record kind; the owner is the platform
	// ("telegram", "matrix"), the id the job's sequence number.
	KindOutbox = "outbox"
	// PurposeOutbox is the DeriveKey purpose of the key the jobs are
	// sealed under.
	PurposeOutbox = "outbox"
)

// OutboxAD is the associated data of an outbox record: it binds the job to
// its platform and id, so a record cannot be moved to another slot.
func OutboxAD(platform, id string) []byte { return []byte("outbox|" + platform + "|" + id) }
