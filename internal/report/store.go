package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/tandem-cc/tandem/internal/event"

	// The embedded store: pure Go, so `tandem serve` needs no C toolchain.
	_ "modernc.org/sqlite"
)

// Drivers of StoreConfig.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// StoreConfig says which database holds the events.
type StoreConfig struct {
	// Driver is "sqlite" (the embedded default) or "postgres".
	Driver string `yaml:"driver"`
	// Path is the SQLite database file (sqlite only).
	Path string `yaml:"path"`
	// DSN is a pgx connection string (postgres only), e.g.
	// "postgres://tandem@db:5432/tandem?sslmode=disable".
	DSN string `yaml:"dsn"`
	// Logger receives the store's log lines; nil means slog.Default().
	Logger *slog.Logger `yaml:"-"`
}

// Validate returns every problem of c, each naming its field.
func (c StoreConfig) Validate() error {
	var errs []error
	switch c.Driver {
	case DriverSQLite:
		if c.Path == "" {
			errs = append(errs, fmt.Errorf("%w: report.store.path: required for driver sqlite", ErrConfig))
		}
	case DriverPostgres:
		if c.DSN == "" {
			errs = append(errs, fmt.Errorf("%w: report.store.dsn: required for driver postgres", ErrConfig))
		}
	default:
		errs = append(errs, fmt.Errorf("%w: report.store.driver: %q is neither sqlite nor postgres", ErrConfig, c.Driver))
	}
	return errors.Join(errs...)
}

// Store is the durable event store: the UCCE Logger's and the CVP
// Reporting Server's database in one. Writes come from one Writer; reads
// are safe from any goroutine.
type Store struct {
	db      *sql.DB
	pool    *pgxpool.Pool // postgres only; db is a database/sql view of it
	dialect dialect
	name    string // for errors: the path or the host, never the password
	log     *slog.Logger

	mu      sync.Mutex     // guards inserts
	inserts map[int]string // insert statement by row count, built once
}

// dialect isolates what SQLite and PostgreSQL spell differently; the SQL
// itself is written once with ? placeholders.
type dialect struct {
	name string
	// dollar: PostgreSQL numbers its placeholders ($1, $2...).
	dollar bool
}

// rebind turns ? placeholders into the dialect's.
func (d dialect) rebind(q string) string {
	if !d.dollar {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + len(q)/4)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Open opens (creating if needed) the store cfg names and brings its schema
// up to date.
//
// SQLite runs in WAL mode with synchronous=FULL: each commit fsyncs the
// WAL, so an event acknowledged as stored survives a power cut as well as
// a kill -9 (NORMAL would survive kill -9 only). Group commit makes that
// one fsync per batch, not per event, which is why FULL costs little here.
func Open(ctx context.Context, cfg StoreConfig) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Store{log: log.With("role", "report"), inserts: map[int]string{}}
	switch cfg.Driver {
	case DriverSQLite:
		s.name = cfg.Path
		s.dialect = dialect{name: DriverSQLite}
		db, err := sql.Open("sqlite", "file:"+cfg.Path+
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(5000)")
		if err != nil {
			return nil, fmt.Errorf("report: open sqlite %s: %w", cfg.Path, err)
		}
		// One writer (the Writer's goroutine) and a few readers: WAL lets
		// readers run beside the writer.
		db.SetMaxOpenConns(4)
		s.db = db
	case DriverPostgres:
		s.dialect = dialect{name: DriverPostgres, dollar: true}
		pcfg, err := pgxpool.ParseConfig(cfg.DSN)
		if err != nil {
			return nil, fmt.Errorf("report: open postgres: parse dsn: %w", err)
		}
		s.name = fmt.Sprintf("%s:%d/%s", pcfg.ConnConfig.Host, pcfg.ConnConfig.Port, pcfg.ConnConfig.Database)
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("report: open postgres %s: %w", s.name, err)
		}
		s.pool = pool
		s.db = stdlib.OpenDBFromPool(pool)
	}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	if err != nil {
		return fmt.Errorf("report: close %s: %w", s.name, err)
	}
	return nil
}

// Driver returns "sqlite" or "postgres".
func (s *Store) Driver() string { return s.dialect.name }

// migration is one numbered schema step. Steps are never edited once
// released: a change is a new step.
type migration struct {
	version int
	sql     []string // portable unless a dialect needs its own
}

// migrations bring a store from empty to the current schema. The column
// types are ones both SQLite and PostgreSQL accept with the same meaning.
var migrations = []migration{
	{version: 1, sql: []string{
		`CREATE TABLE events (
			id      TEXT    NOT NULL PRIMARY KEY,
			call_id TEXT    NOT NULL,
			seq     BIGINT  NOT NULL,
			time_ns BIGINT  NOT NULL,
			kind    TEXT    NOT NULL,
			leg_id  TEXT    NOT NULL,
			code    INTEGER NOT NULL,
			reason  TEXT    NOT NULL,
			outcome TEXT    NOT NULL,
			peer    TEXT    NOT NULL,
			side    TEXT    NOT NULL
		)`,
		// A journey is read by call in seq order; intervals by time.
		`CREATE INDEX events_call_seq ON events (call_id, seq)`,
		`CREATE INDEX events_time ON events (time_ns)`,
	}},
}

// migrate applies the migrations not yet recorded in schema_migrations,
// each in its own transaction with its record, so a failed step leaves
// the schema at the step before.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER NOT NULL PRIMARY KEY,
		applied_ns BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("report: migrate %s: schema_migrations: %w", s.name, err)
	}
	for _, m := range migrations {
		var n int
		if err := s.db.QueryRowContext(ctx, s.dialect.rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
			return fmt.Errorf("report: migrate %s: version %d: %w", s.name, m.version, err)
		}
		if n > 0 {
			continue
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("report: migrate %s: version %d: %w", s.name, m.version, err)
		}
		for _, q := range m.sql {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				tx.Rollback()
				return fmt.Errorf("report: migrate %s: version %d: %w", s.name, m.version, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.dialect.rebind(`INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`), m.version, time.Now().UnixNano()); err != nil {
			tx.Rollback()
			return fmt.Errorf("report: migrate %s: version %d: %w", s.name, m.version, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("report: migrate %s: version %d: commit: %w", s.name, m.version, err)
		}
		s.log.Info("report: schema migrated", "store", s.name, "version", m.version)
	}
	return nil
}

// SchemaVersion returns the highest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("report: schema version %s: %w", s.name, err)
	}
	return int(v.Int64), nil
}

const eventColumns = 11

// rowsPerStatement bounds a multi-row INSERT: 500 rows × 11 columns stays
// far under SQLite's 32,766 and PostgreSQL's 65,535 placeholders, and is
// large enough that parsing the statement costs little per row.
const rowsPerStatement = 500

// insertSQL returns the INSERT for n rows, built once per n.
func (s *Store) insertSQL(n int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q, ok := s.inserts[n]; ok {
		return q
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO events (id, call_id, seq, time_ns, kind, leg_id, code, reason, outcome, peer, side) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?,?,?,?,?)`)
	}
	// Idempotent by event id: a replayed spool or a retried batch whose
	// commit was in fact applied writes nothing twice. Both dialects accept
	// this spelling (SQLite since 3.24).
	b.WriteString(` ON CONFLICT (id) DO NOTHING`)
	q := s.dialect.rebind(b.String())
	s.inserts[n] = q
	return q
}

// Insert writes events in one transaction; events whose id is already
// stored are skipped. Every event must have an ID (Writer stamps them).
func (s *Store) Insert(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("report: insert %d events into %s: begin: %w", len(events), s.name, err)
	}
	defer tx.Rollback()
	args := make([]any, 0, eventColumns*min(len(events), rowsPerStatement))
	for len(events) > 0 {
		n := min(len(events), rowsPerStatement)
		args = args[:0]
		for i := range events[:n] {
			e := &events[i]
			if e.ID == "" {
				return fmt.Errorf("report: insert into %s: event %s of call %s has no id", s.name, e.Kind, e.Call)
			}
			args = append(args, e.ID, string(e.Call), int64(e.Seq), e.Time.UnixNano(), string(e.Kind),
				string(e.Leg), e.Code, e.Reason, string(e.Outcome), e.Peer, e.Side)
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL(n), args...); err != nil {
			return fmt.Errorf("report: insert %d events into %s: %w", n, s.name, err)
		}
		events = events[n:]
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("report: insert into %s: commit: %w", s.name, err)
	}
	return nil
}

// CallJourney returns every stored event of call in order: by seq, then
// time and id, so events from two sequencers still read in a fixed order.
func (s *Store) CallJourney(ctx context.Context, call event.CallID) ([]event.Event, error) {
	rows, err := s.db.QueryContext(ctx, s.dialect.rebind(`SELECT id, call_id, seq, time_ns, kind, leg_id, code, reason, outcome, peer, side
		FROM events WHERE call_id = ? ORDER BY seq, time_ns, id`), string(call))
	if err != nil {
		return nil, fmt.Errorf("report: journey of call %s in %s: %w", call, s.name, err)
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var (
			e                          event.Event
			callID, kind, leg, outcome string
			seq, tns                   int64
		)
		if err := rows.Scan(&e.ID, &callID, &seq, &tns, &kind, &leg, &e.Code, &e.Reason, &outcome, &e.Peer, &e.Side); err != nil {
			return nil, fmt.Errorf("report: journey of call %s in %s: %w", call, s.name, err)
		}
		e.Call, e.Kind, e.Leg, e.Outcome = event.CallID(callID), event.Kind(kind), event.LegID(leg), event.Outcome(outcome)
		e.Seq, e.Time = uint64(seq), time.Unix(0, tns)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report: journey of call %s in %s: %w", call, s.name, err)
	}
	return out, nil
}

// Count returns how many events are stored.
func (s *Store) Count(ctx context.Context) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events`).Scan(&n); err != nil {
		return 0, fmt.Errorf("report: count %s: %w", s.name, err)
	}
	return n, nil
}

// Ping checks that the store answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("report: ping %s: %w", s.name, err)
	}
	return nil
}
