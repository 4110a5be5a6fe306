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

// StoreConfig says which database holds the events: the node builds it
// from report.Config (the file's report section) and data_dir.
type StoreConfig struct {
	// Driver is "sqlite" (the embedded default) or "postgres".
	Driver string
	// Path is the SQLite database file (sqlite only).
	Path string
	// DSN is a pgx connection string (postgres only), e.g.
	// "postgres://tandem@db:5432/tandem?sslmode=disable".
	DSN string
	// Node is the id of the node writing (NodeID): each event stored is
	// stamped with it (column owner), and at start the node closes only
	// the calls and agents its own earlier runs left open (CloseOrphans),
	// never another node's in a shared PostgreSQL. Empty: events are
	// stored without an owner and nothing is closed at start.
	Node string
	// Records says how records and interval tables are cut.
	Records RecordConfig
	// Logger receives the store's log lines; nil means slog.Default().
	Logger *slog.Logger
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
	if err := c.Records.Validate(); err != nil {
		errs = append(errs, err)
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

	mu      sync.Mutex        // guards inserts and stmts
	inserts map[int]string    // insert statement by row count, built once
	stmts   map[string]string // other generated statements, by key
	// prepared holds the hot statements prepared once (see exec).
	prepared map[string]*sql.Stmt

	rec  RecordConfig // defaults filled
	node string       // StoreConfig.Node, stamped on every event stored

	// writeMu serialises Insert, Derive and Purge: derivation reads the
	// pending marks that Insert writes and must see each batch whole.
	writeMu sync.Mutex
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
	s := &Store{log: log.With("role", "report"), inserts: map[int]string{}, stmts: map[string]string{}, prepared: map[string]*sql.Stmt{}, rec: cfg.Records, node: cfg.Node}
	s.rec.defaults()
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
	s.mu.Lock()
	for _, st := range s.prepared {
		st.Close()
	}
	s.prepared = map[string]*sql.Stmt{}
	s.mu.Unlock()
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
	{version: 2, sql: []string{
		// The routing and agent fields of the event model (package event).
		`ALTER TABLE events ADD COLUMN agent TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN queue TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN call_type TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN script TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN node TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN target TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN state TEXT NOT NULL DEFAULT ''`,
		`ALTER TABLE events ADD COLUMN reason_code INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE events ADD COLUMN data TEXT NOT NULL DEFAULT ''`,
		// Calls whose records must be derived again; due_ns lets a call
		// settle (its trailing events arrive) before it is.
		`CREATE TABLE pending_calls (
			call_id TEXT   NOT NULL PRIMARY KEY,
			due_ns  BIGINT NOT NULL
		)`,
		`CREATE TABLE tcd (
			call_id     TEXT    NOT NULL,
			leg         TEXT    NOT NULL,
			leg_kind    TEXT    NOT NULL,
			agent       TEXT    NOT NULL,
			skill_group TEXT    NOT NULL,
			call_type   TEXT    NOT NULL,
			start_ns    BIGINT  NOT NULL,
			end_ns      BIGINT  NOT NULL,
			ring_ns     BIGINT  NOT NULL,
			delay_ns    BIGINT  NOT NULL,
			queue_ns    BIGINT  NOT NULL,
			talk_ns     BIGINT  NOT NULL,
			hold_ns     BIGINT  NOT NULL,
			wrapup_ns   BIGINT  NOT NULL,
			disposition TEXT    NOT NULL,
			wrapup_reason INTEGER NOT NULL,
			ani         TEXT    NOT NULL,
			dnis        TEXT    NOT NULL,
			sip_call_id TEXT    NOT NULL,
			data        TEXT    NOT NULL,
			PRIMARY KEY (call_id, leg)
		)`,
		`CREATE INDEX tcd_start ON tcd (start_ns)`,
		`CREATE TABLE rcd (
			call_id   TEXT    NOT NULL,
			n         INTEGER NOT NULL,
			time_ns   BIGINT  NOT NULL,
			call_type TEXT    NOT NULL,
			script    TEXT    NOT NULL,
			node_path TEXT    NOT NULL,
			decision  TEXT    NOT NULL,
			target    TEXT    NOT NULL,
			queue_ns  BIGINT  NOT NULL,
			PRIMARY KEY (call_id, n)
		)`,
		`CREATE INDEX rcd_time ON rcd (time_ns)`,
		`CREATE TABLE agent_state (
			id          TEXT    NOT NULL PRIMARY KEY,
			agent       TEXT    NOT NULL,
			time_ns     BIGINT  NOT NULL,
			state       TEXT    NOT NULL,
			reason_code INTEGER NOT NULL
		)`,
		`CREATE INDEX agent_state_agent ON agent_state (agent, time_ns)`,
		`CREATE INDEX agent_state_time ON agent_state (time_ns)`,
		// What each ended call added to the interval rows, so deriving it
		// again takes that off first.
		`CREATE TABLE call_facts (
			call_id  TEXT   NOT NULL PRIMARY KEY,
			end_ns   BIGINT NOT NULL,
			contribs TEXT   NOT NULL
		)`,
		`CREATE INDEX call_facts_end ON call_facts (end_ns)`,
		`CREATE TABLE intervals (
			kind     TEXT   NOT NULL,
			name     TEXT   NOT NULL,
			start_ns BIGINT NOT NULL,
			` + intervalColumnsDDL() + `,
			PRIMARY KEY (kind, name, start_ns)
		)`,
		`CREATE INDEX intervals_start ON intervals (start_ns)`,
	}},
	{version: 3, sql: stateTimesMigration()},
	{version: 4, sql: []string{
		// IVR steps: VoiceXML form items visited and micro-apps run.
		`CREATE TABLE ivr_steps (
			call_id   TEXT    NOT NULL,
			n         INTEGER NOT NULL,
			time_ns   BIGINT  NOT NULL,
			call_type TEXT    NOT NULL,
			source    TEXT    NOT NULL,
			script    TEXT    NOT NULL,
			item      TEXT    NOT NULL,
			element   TEXT    NOT NULL,
			input     TEXT    NOT NULL,
			outcome   TEXT    NOT NULL,
			PRIMARY KEY (call_id, n)
		)`,
		`CREATE INDEX ivr_steps_time ON ivr_steps (time_ns)`,
	}},
	{version: 5, sql: []string{
		// The node that stored each event (StoreConfig.Node): at start a
		// node closes the calls its earlier runs left open, and only
		// those. Rows from before it have ''.
		`ALTER TABLE events ADD COLUMN owner TEXT NOT NULL DEFAULT ''`,
		// The records still open, which CloseOrphans reads at each start:
		// few rows, so a partial index finds them without a scan.
		`CREATE INDEX tcd_open ON tcd (call_id) WHERE disposition = 'in_progress'`,
	}},
	{version: 6, sql: []string{
		// INVITEs refused before they became calls, per interval and
		// reason (rejected.go).
		`ALTER TABLE intervals ADD COLUMN ` + rejectedColumn + ` BIGINT NOT NULL DEFAULT 0`,
	}},
}

// stateTimesMigration adds the agent interval table's time per state
// (StateTimes) to the intervals rows, and the agents whose times must be
// derived again (from_ns: their earliest new change).
func stateTimesMigration() []string {
	var q []string
	for _, c := range stateColumns {
		q = append(q, `ALTER TABLE intervals ADD COLUMN `+c+` BIGINT NOT NULL DEFAULT 0`)
	}
	q = append(q, `ALTER TABLE intervals ADD COLUMN `+reasonsColumn+` TEXT NOT NULL DEFAULT ''`,
		`CREATE TABLE pending_agents (
			agent   TEXT   NOT NULL PRIMARY KEY,
			from_ns BIGINT NOT NULL,
			due_ns  BIGINT NOT NULL
		)`)
	return q
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

// eventColumns is how many columns Insert writes: eventColumnList and
// owner.
const eventColumns = 21

const eventColumnList = `id, call_id, seq, time_ns, kind, leg_id, code, reason, outcome, peer, side, agent, queue, call_type, script, node, target, state, reason_code, data`

// rowsPerStatement bounds a multi-row INSERT: 500 rows × 21 columns stays
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
	b.WriteString(`INSERT INTO events (` + eventColumnList + `, owner) VALUES `)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
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
// In the same transaction each call is marked for derivation (Derive
// brings its records up to date) and agent state changes become agent
// state detail rows.
func (s *Store) Insert(ctx context.Context, events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
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
			data, err := encodeData(e.Data)
			if err != nil {
				return fmt.Errorf("report: insert into %s: event %s: %w", s.name, e.ID, err)
			}
			args = append(args, e.ID, string(e.Call), int64(e.Seq), e.Time.UnixNano(), string(e.Kind),
				string(e.Leg), e.Code, e.Reason, string(e.Outcome), e.Peer, e.Side,
				string(e.Agent), e.Queue, e.CallType, e.Script, e.Node, e.Target, e.State, e.ReasonCode, data, s.node)
		}
		if err := s.exec(ctx, tx, s.insertSQL(n), args...); err != nil {
			return fmt.Errorf("report: insert %d events into %s: %w", n, s.name, err)
		}
		if err := s.markDerived(ctx, tx, events[:n]); err != nil {
			return err
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
	out, err := s.queryEvents(ctx, s.db, `SELECT `+eventColumnList+` FROM events WHERE call_id = ? ORDER BY seq, time_ns, id`, string(call))
	if err != nil {
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
