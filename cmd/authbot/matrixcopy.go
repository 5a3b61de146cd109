//go:build goolm

package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"go.mau.fi/util/dbutil"
	"maunium.net/go/mautrix/crypto"
	"maunium.net/go/mautrix/sqlstatestore"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// The Matrix crypto store is mautrix's: its tables (crypto_*, mx_*) and
// its own schema upgrades. Moving it between SQLite and PostgreSQL lets
// mautrix create the schema in the target, then copies every row of every
// table both sides have, column by column, converting only what the two
// engines spell differently (SQLite keeps booleans as integers, PostgreSQL
// has bytea and an enum for membership). The pickles inside stay encrypted
// under the same pickle key: nothing is decrypted to copy them.

// matrixCopySupported: this build can move the Matrix crypto store.
const matrixCopySupported = true

type sqlEnd struct {
	db       *sql.DB
	q        querier // db, or a read-only snapshot transaction on it
	postgres bool
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func openCryptoEnd(ctx context.Context, sqlitePath, dsn string) (*dbutil.Database, sqlEnd, error) {
	var db *dbutil.Database
	var err error
	if dsn != "" {
		db, err = dbutil.NewWithDialect(dsn, "pgx")
	} else {
		if err := os.MkdirAll(filepath.Dir(sqlitePath), 0o700); err != nil {
			return nil, sqlEnd{}, err
		}
		db, err = dbutil.NewWithDialect("file:"+sqlitePath+"?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)", "sqlite")
	}
	if err != nil {
		return nil, sqlEnd{}, fmt.Errorf("open the Matrix crypto store: %w", err)
	}
	return db, sqlEnd{db: db.RawDB, q: db.RawDB, postgres: dsn != ""}, nil
}

// upgradeCryptoSchema has mautrix create (or bring up to date) its tables.
func upgradeCryptoSchema(ctx context.Context, db *dbutil.Database) error {
	cs := crypto.NewSQLCryptoStore(db, dbutil.NoopLogger, "", "", nil)
	if err := cs.DB.Upgrade(ctx); err != nil {
		return fmt.Errorf("upgrade the Matrix crypto schema: %w", err)
	}
	if err := sqlstatestore.NewSQLStateStore(db, dbutil.NoopLogger, false).Upgrade(ctx); err != nil {
		return fmt.Errorf("upgrade the Matrix state schema: %w", err)
	}
	return nil
}

// hasMatrixAccount reports whether a crypto store holds an olm account.
func hasMatrixAccount(ctx context.Context, e sqlEnd) (bool, error) {
	var n int
	err := e.q.QueryRowContext(ctx, "SELECT count(*) FROM crypto_account").Scan(&n)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// copyMatrixState copies the crypto store from (SQLite path or DSN) to
// the other; the target must not hold an olm account yet. It returns the
// number of rows copied.
func copyMatrixState(ctx context.Context, fromPath, fromDSN, toPath, toDSN string) (int, error) {
	srcDB, src, err := openCryptoEnd(ctx, fromPath, fromDSN)
	if err != nil {
		return 0, err
	}
	defer srcDB.Close()
	if err := upgradeCryptoSchema(ctx, srcDB); err != nil {
		return 0, err
	}
	dstDB, dst, err := openCryptoEnd(ctx, toPath, toDSN)
	if err != nil {
		return 0, err
	}
	defer dstDB.Close()
	return copyCryptoRows(ctx, src, dstDB, dst)
}

// copyCryptoRows has mautrix create its schema in dst (which must not
// hold an olm account yet) and copies into it, in one transaction, every
// row of every table src has too.
func copyCryptoRows(ctx context.Context, src sqlEnd, dstDB *dbutil.Database, dst sqlEnd) (int, error) {
	if err := upgradeCryptoSchema(ctx, dstDB); err != nil {
		return 0, err
	}
	if has, err := hasMatrixAccount(ctx, dst); err != nil || has {
		if err == nil {
			err = fmt.Errorf("the target already holds a Matrix crypto account: %w", errNotEmpty)
		}
		return 0, err
	}
	tables, err := dst.tables(ctx)
	if err != nil {
		return 0, err
	}
	srcTables, err := src.tables(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	for _, t := range sortedTables(tables) {
		if !srcTables[t] {
			continue
		}
		c, err := copyTable(ctx, src, dst, tx, t)
		if err != nil {
			return n, fmt.Errorf("copy %s: %w", t, err)
		}
		n += c
	}
	return n, tx.Commit()
}

// tables lists mautrix's data tables (not the version tables), the
// account first: another table refers to it.
func (e sqlEnd) tables(ctx context.Context) (map[string]bool, error) {
	q := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if e.postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	}
	rows, err := e.q.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if (strings.HasPrefix(name, "crypto_") || strings.HasPrefix(name, "mx_")) && !strings.HasSuffix(name, "_version") {
			out[name] = true
		}
	}
	return out, rows.Err()
}

func sortedTables(m map[string]bool) []string {
	var out []string
	for t := range m {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i] == "crypto_account") != (out[j] == "crypto_account") {
			return out[i] == "crypto_account"
		}
		return out[i] < out[j]
	})
	return out
}

// columns returns a table's columns and, on PostgreSQL, their types.
func (e sqlEnd) columns(ctx context.Context, table string) (map[string]string, error) {
	var rows *sql.Rows
	var err error
	if e.postgres {
		rows, err = e.q.QueryContext(ctx, "SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", table)
	} else {
		rows, err = e.q.QueryContext(ctx, "SELECT name, type FROM pragma_table_info(?)", table)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, err
		}
		out[name] = strings.ToLower(typ)
	}
	return out, rows.Err()
}

func copyTable(ctx context.Context, src, dst sqlEnd, tx *sql.Tx, table string) (int, error) {
	sc, err := src.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	dc, err := dst.columns(ctx, table)
	if err != nil {
		return 0, err
	}
	var cols []string
	for c := range dc {
		if _, ok := sc[c]; ok {
			cols = append(cols, c)
		}
	}
	sort.Strings(cols)
	if len(cols) == 0 {
		return 0, nil
	}
	quoted := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
		marks[i] = "?"
		if dst.postgres {
			marks[i] = "$" + strconv.Itoa(i+1) + "::" + dc[c]
		}
	}
	rows, err := src.q.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+" FROM "+table)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	insert := "INSERT INTO " + table + " (" + strings.Join(quoted, ", ") + ") VALUES (" + strings.Join(marks, ", ") + ")"
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			vals[i] = convert(vals[i], dc[c], dst.postgres)
		}
		if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// convert adapts one value to the target column: PostgreSQL gets text for
// everything but bytea (each placeholder is cast to the column's type, so
// booleans, enums and numbers parse there), SQLite takes Go values as they
// are.
func convert(v any, typ string, toPostgres bool) any {
	if v == nil || !toPostgres {
		if b, ok := v.(bool); ok {
			if b {
				return int64(1)
			}
			return int64(0)
		}
		return v
	}
	if typ == "bytea" {
		switch x := v.(type) {
		case string:
			return []byte(x)
		default:
			return x
		}
	}
	switch x := v.(type) {
	case []byte:
		return string(x)
	case int64:
		if typ == "bool" {
			return strconv.FormatBool(x != 0)
		}
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}

// exportMatrixState copies the crypto store kept in PostgreSQL (dsn) into
// a new SQLite file at path, the form a backup holds it in, reading from
// one REPEATABLE READ snapshot: serve may go on writing meanwhile, the
// copy is one moment of it. It writes nothing to PostgreSQL (no schema
// upgrade there; serve has made the schema). ok is false, and no file
// made, when the database holds no olm account (Matrix never ran on it).
func exportMatrixState(ctx context.Context, dsn, path string) (rows int, ok bool, err error) {
	srcDB, src, err := openCryptoEnd(ctx, "", dsn)
	if err != nil {
		return 0, false, err
	}
	defer srcDB.Close()
	tx, err := src.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return 0, false, fmt.Errorf("read the Matrix crypto store: %w", err)
	}
	defer tx.Rollback()
	src.q = tx
	tables, err := src.tables(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("read the Matrix crypto store: %w", err)
	}
	if !tables["crypto_account"] {
		return 0, false, nil
	}
	if has, err := hasMatrixAccount(ctx, src); err != nil || !has {
		return 0, false, err
	}
	dstDB, dst, err := openCryptoEnd(ctx, path, "")
	if err != nil {
		return 0, false, err
	}
	defer dstDB.Close()
	n, err := copyCryptoRows(ctx, src, dstDB, dst)
	if err != nil {
		return n, false, fmt.Errorf("copy the Matrix crypto store out of PostgreSQL: %w", err)
	}
	return n, true, nil
}

// pgHasMatrixAccount reports whether the PostgreSQL database holds an olm
// account, without creating any table.
func pgHasMatrixAccount(ctx context.Context, dsn string) (bool, error) {
	db, e, err := openCryptoEnd(ctx, "", dsn)
	if err != nil {
		return false, err
	}
	defer db.Close()
	tables, err := e.tables(ctx)
	if err != nil || !tables["crypto_account"] {
		return false, err
	}
	return hasMatrixAccount(ctx, e)
}
