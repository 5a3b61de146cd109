// Package core is authbot's domain: people's accounts, their one-time
// codes, and the sealing of everything that reaches the disk. It defines the
// seams it needs from the outside (Store, Clock) and the Service that every
// chat adapter calls through bots/commands. It does no chat or disk I/O of
// its own.
//
// # Glossary
//
// The same words mean the same thing in every file of core and in the
// packages that call it.
//
//   - Person: someone the bot serves. A config user (named in the config
//     file's users), a person who joined with an admin's invite, or
//     LocalPerson ("local": the operator at `authbot chat` and `authbot
//     import`). Every Service method takes the acting person by their
//     person name — the config or invite name, such as "alice" — never by
//     a chat identity.
//   - Identity: one chat account, Identity{Platform, ID}: "telegram" and the
//     numeric user id, or "matrix" and "@bob:example.org". A person may hold
//     several (config, invite, /link); an identity belongs to one person.
//   - Owner id, storage id: the opaque id a person's records are stored
//     under (Ref.Owner, or Ref.ID of their data key). Random, made when the
//     person is first seen and kept in their sealed people record, so a
//     name is only a label for it (owners.go); older databases used a keyed
//     hash of the name. In shared vault records the owner is the vault id.
//   - Vault: a set of accounts sealed under one key, with an index. Every
//     person has their own vault (their "own" or personal accounts, under
//     their data key, with no name); a shared vault has a name ("team" in
//     "team/aws"), members with roles and its own random key, wrapped for
//     each member (vault.go). The internal type vault is either.
//   - Space: everything one person can reach in one transaction, their own
//     vault and every shared vault they belong to (spaces.go); a query such
//     as "aws" is resolved across all of it.
//   - Data key: a person's random key. It seals their own vault and wraps
//     their copies of shared vault keys; it is wrapped under the master key,
//     or only under their passphrase once they /lock (lock.go).
//   - Master key, derivation root, lookup key: the operator's key file opens
//     the database; the root gives every other sub-key (DeriveKey); the
//     lookup key turns names into record ids (rotate.go, records.go).
//
// # Where things are
//
// records.go holds every record kind, its associated data and key purpose;
// errors.go every exported error; service.go the Service and its options.
// The other files are one area each: accounts.go (add, code, list, rename,
// delete), vault.go (shared vaults), people.go and owners.go (people,
// invites, storage ids), lock.go, approval.go, audit.go, rotate.go (master
// key rotation) and verify.go.
package core
