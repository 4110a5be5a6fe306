package config

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	// The embedded store: pure Go, so `tandem serve` needs no C toolchain.
	_ "modernc.org/sqlite"
)

// Store keeps configuration documents that change at run time (the
// router's today) in the embedded SQLite database under data_dir, every
// version kept, so a change made through the API survives a restart and
// can be traced. PostgreSQL replaces it past one machine.
type Store struct {
	db *sql.DB
}

// Document is one stored version of a configuration document.
type Document struct {
	Kind    string
	Version int
	Body    []byte // YAML
	Author  string
	Saved   time.Time
}

// ErrNoDocument: nothing of that kind is stored yet.
var ErrNoDocument = errors.New("config: no stored document")

// OpenStore opens (creating if needed) the SQLite database at path.
func OpenStore(path string) (*Store, error) {
	// WAL lets readers go on while a change is written; busy_timeout rides
	// out a concurrent writer instead of failing at once.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, fmt.Errorf("config: store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // SQLite has one writer; one connection keeps it simple
	const schema = `CREATE TABLE IF NOT EXISTS config_documents (
		kind    TEXT    NOT NULL,
		version INTEGER NOT NULL,
		body    BLOB    NOT NULL,
		author  TEXT    NOT NULL,
		saved   INTEGER NOT NULL,
		PRIMARY KEY (kind, version)
	)`
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("config: store %s: schema: %w", path, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save stores body as the next version of kind and returns that version.
func (s *Store) Save(ctx context.Context, kind string, body []byte, author string) (int, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("config: save %s: %w", kind, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM config_documents WHERE kind = ?`, kind).Scan(&v); err != nil {
		return 0, fmt.Errorf("config: save %s: %w", kind, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO config_documents (kind, version, body, author, saved) VALUES (?, ?, ?, ?, ?)`,
		kind, v, body, author, time.Now().UnixMilli()); err != nil {
		return 0, fmt.Errorf("config: save %s: %w", kind, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("config: save %s: %w", kind, err)
	}
	return v, nil
}

// Latest returns the newest version of kind, or ErrNoDocument.
func (s *Store) Latest(ctx context.Context, kind string) (Document, error) {
	d := Document{Kind: kind}
	var saved int64
	err := s.db.QueryRowContext(ctx, `SELECT version, body, author, saved FROM config_documents WHERE kind = ? ORDER BY version DESC LIMIT 1`, kind).
		Scan(&d.Version, &d.Body, &d.Author, &saved)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, fmt.Errorf("%w: %s", ErrNoDocument, kind)
	}
	if err != nil {
		return Document{}, fmt.Errorf("config: latest %s: %w", kind, err)
	}
	d.Saved = time.UnixMilli(saved)
	return d, nil
}

// LatestBy returns the newest version of kind saved by author (the
// router's "config file": what the file last gave), or ErrNoDocument.
func (s *Store) LatestBy(ctx context.Context, kind, author string) (Document, error) {
	d := Document{Kind: kind, Author: author}
	var saved int64
	err := s.db.QueryRowContext(ctx, `SELECT version, body, saved FROM config_documents WHERE kind = ? AND author = ? ORDER BY version DESC LIMIT 1`, kind, author).
		Scan(&d.Version, &d.Body, &saved)
	if errors.Is(err, sql.ErrNoRows) {
		return Document{}, fmt.Errorf("%w: %s by %s", ErrNoDocument, kind, author)
	}
	if err != nil {
		return Document{}, fmt.Errorf("config: latest %s by %s: %w", kind, author, err)
	}
	d.Saved = time.UnixMilli(saved)
	return d, nil
}

// History lists the versions of kind, newest first, without their bodies.
func (s *Store) History(ctx context.Context, kind string) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, author, saved FROM config_documents WHERE kind = ? ORDER BY version DESC`, kind)
	if err != nil {
		return nil, fmt.Errorf("config: history %s: %w", kind, err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		d := Document{Kind: kind}
		var saved int64
		if err := rows.Scan(&d.Version, &d.Author, &saved); err != nil {
			return nil, fmt.Errorf("config: history %s: %w", kind, err)
		}
		d.Saved = time.UnixMilli(saved)
		out = append(out, d)
	}
	return out, rows.Err()
}
