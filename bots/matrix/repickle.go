//go:build goolm

package matrix

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authbot/authbot/storage/datadir"
	"maunium.net/go/mautrix/crypto/goolm/libolmpickle"
)

// Re-pickling after a master key rotation.
//
// mautrix's SQL crypto store encrypts every olm and megolm pickle, and
// every stored secret (the cross-signing and backup keys), with the pickle
// key (libolmpickle: AES-256-CBC and HMAC-SHA-256 keyed from it). Those
// are all the columns the key touches. A rotation changes the pickle key,
// and the store must end up readable only with the new one, so Repickle
// decrypts each of them with the old key and encrypts it with the new, in
// one SQLite transaction. mautrix has no re-key call of its own; this is
// its own pickle format, called through its own package, so no crypto is
// hand-written here.
//
// It is idempotent: a value that already opens with the new key is left
// alone, so a re-pickle interrupted and run again (or run twice) is safe.

// pickled are the (table, column) pairs mautrix encrypts with the pickle key.
var pickled = [][2]string{
	{"crypto_account", "account"},
	{"crypto_olm_session", "session"},
	{"crypto_megolm_inbound_session", "session"},
	{"crypto_megolm_outbound_session", "session"},
	{"crypto_secrets", "secret"},
}

// Repickle moves every pickle in stateDir/crypto.db from oldKey to newKey
// and returns how many it re-encrypted. A missing crypto.db (Matrix never
// ran) is nothing to do. Errors: a value that opens with neither key
// (nothing is changed then), or an SQLite error.
func Repickle(ctx context.Context, stateDir string, oldKey, newKey []byte) (int, error) {
	path := filepath.Join(stateDir, datadir.CryptoDBName)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)&_txlock=immediate")
	if err != nil {
		return 0, fmt.Errorf("matrix: open crypto.db: %w", err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("matrix: re-pickle: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, tc := range pickled {
		m, err := repickleColumn(ctx, tx, sqliteRows, tc[0], tc[1], oldKey, newKey)
		if err != nil {
			return 0, fmt.Errorf("matrix: re-pickle %s: %w", tc[0], err)
		}
		n += m
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("matrix: re-pickle: %w", err)
	}
	return n, nil
}

// RepickleDB is Repickle for the crypto store authbot keeps in PostgreSQL
// (storage.driver postgres; db opened with pgx's database/sql driver):
// the same columns, in one transaction. Tables that do not exist there
// (Matrix never ran on this database) are nothing to do.
func RepickleDB(ctx context.Context, db *sql.DB, oldKey, newKey []byte) (int, error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("matrix: re-pickle: %w", err)
	}
	defer tx.Rollback()
	n := 0
	for _, tc := range pickled {
		var exists bool
		if err := tx.QueryRowContext(ctx, "SELECT to_regclass($1) IS NOT NULL", tc[0]).Scan(&exists); err != nil {
			return 0, fmt.Errorf("matrix: re-pickle: %w", err)
		}
		if !exists {
			continue
		}
		m, err := repickleColumn(ctx, tx, postgresRows, tc[0], tc[1], oldKey, newKey)
		if err != nil {
			return 0, fmt.Errorf("matrix: re-pickle %s: %w", tc[0], err)
		}
		n += m
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("matrix: re-pickle: %w", err)
	}
	return n, nil
}

// rowAddr names a row within one transaction: SQLite's rowid, or
// PostgreSQL's ctid (stable until the row is updated, which happens once).
type rowAddr struct{ sel, update string }

var (
	sqliteRows   = rowAddr{sel: "rowid", update: "UPDATE %s SET %s = ? WHERE rowid = ?"}
	postgresRows = rowAddr{sel: "ctid::text", update: "UPDATE %s SET %s = $1 WHERE ctid = $2::tid"}
)

func repickleColumn(ctx context.Context, tx *sql.Tx, addr rowAddr, table, col string, oldKey, newKey []byte) (int, error) {
	// Table and column names come from the fixed list above, never from input.
	rows, err := tx.QueryContext(ctx, "SELECT "+addr.sel+", "+col+" FROM "+table+" WHERE "+col+" IS NOT NULL")
	if err != nil {
		return 0, err
	}
	type update struct {
		rowid any
		value []byte
	}
	var ups []update
	for rows.Next() {
		var id any
		var v []byte
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return 0, err
		}
		if len(v) == 0 {
			continue
		}
		if p, err := libolmpickle.Unpickle(newKey, v); err == nil {
			clear(p)
			continue // already under the new key
		}
		p, err := libolmpickle.Unpickle(oldKey, v)
		if err != nil {
			rows.Close()
			return 0, errors.New("a value opens with neither the old nor the new pickle key")
		}
		nv, err := libolmpickle.Pickle(newKey, p)
		clear(p)
		if err != nil {
			rows.Close()
			return 0, err
		}
		ups = append(ups, update{id, nv})
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, u := range ups {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(addr.update, table, col), u.value, u.rowid); err != nil {
			return 0, err
		}
	}
	return len(ups), nil
}
